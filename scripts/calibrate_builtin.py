"""Recalibrate the level tables of the builtin pack and write scaler_envs_builtin/levels.json.

Run after adding or changing a builtin environment: python scripts/calibrate_builtin.py
"""

from __future__ import annotations

import json

from scaler.calibration import calibrate_envs
from scaler.sandbox.process import ProcessSandbox
from scaler_envs_builtin import ENVS_DIR, LEVELS_FILE, read_env


def main() -> None:
    envs = [read_env(d) for d in sorted(ENVS_DIR.iterdir()) if (d / "env.toml").is_file()]
    with ProcessSandbox() as sandbox:
        results = calibrate_envs(envs, sandbox)
    tables = {c.env_id: list(c.levels) for c in results}
    LEVELS_FILE.write_text(json.dumps(tables, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    for c in results:
        print(f"{c.env_id}: s_max {c.s_max}, {len(c.levels)} levels")


if __name__ == "__main__":
    main()
