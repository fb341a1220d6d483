"""Print the lowest version that setup.cfg admits for each install requirement, as pins.

CI installs these in a second virtual environment and checks that animefeat imports and
classifies there, so a lower bound that the code has outgrown fails CI instead of a user.

    python .ci/lowest.py > lowest.txt && pip install -r lowest.txt
"""

import configparser
import re
from pathlib import Path

config = configparser.ConfigParser()
config.read(Path(__file__).resolve().parent.parent / "setup.cfg")
for line in config["options"]["install_requires"].splitlines():
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([0-9.]+)(,.*)?", line)
    if match is None:
        raise SystemExit(f"setup.cfg: {line!r} has no lower bound (>=) to pin")
    print(f"{match[1]}=={match[2]}")
