"""Running several strategies: the no-AI site, a strategy subset, the progress bar, JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

from controller.backtest import result_dict, run_backtest, summary_table, without_ai
from controller.backtest.progress import Progress
from tests.backtest.helpers import inputs, write_site

SITE = [
    {"make": "antminer", "model": "S19j Pro", "start": "127.0.190.1"},
    {"make": "antminer", "model": "S21 XP", "start": "127.0.190.2", "count": 2},
    {"make": "gpu", "model": "H200", "start": "127.0.190.10"},
]


def test_no_ai_gives_gpu_power_to_the_most_efficient_miner(tmp_path: Path) -> None:
    site = write_site(tmp_path, SITE)
    bare = without_ai(site)
    kinds = [bare.kinds[k].name for k in bare.device_kinds]
    assert not any(name.startswith("gpu") for name in kinds)
    # One 10.2 kW node = three S21 XP (3,645 W each, 17.6 J/TH, the best miner here).
    assert kinds.count("antminer S21 XP") == 2 + 3
    assert list(bare.device_ids) == sorted(bare.device_ids)


def test_a_subset_of_strategies_with_progress_and_json(tmp_path: Path) -> None:
    site = write_site(tmp_path, SITE)
    data = inputs([20.0, 30.0, 2500.0, 40.0])
    stream = io.StringIO()
    progress = Progress(2 * data.steps, stream=stream, enabled=True)
    run = run_backtest(site, data, strategies=("always_mine", "hashpivot"), progress=progress)
    assert [r.name for r in run.results] == ["always_mine", "hashpivot"]
    assert "100%" in stream.getvalue()
    assert stream.getvalue().endswith("\n")
    table = summary_table(run)
    assert "hashpivot policy" in table
    assert "always mine" in table
    doc = json.loads(json.dumps(result_dict(run)))
    assert doc["inputs"]["steps"] == 4
    assert set(doc["strategies"]["hashpivot"]["cycles"]["per_device"]) == set(site.device_ids)
