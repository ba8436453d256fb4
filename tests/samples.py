"""The sample files most tests analyse: a small English sales table (3 rows, total 600) and the
same table in Korean as Korean Excel saves it (CP949)."""

from __future__ import annotations

SALES_CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"
KOREAN_SALES_CSV = "지역,매출\n서울,100\n부산,200\n대구,300\n".encode("cp949")
