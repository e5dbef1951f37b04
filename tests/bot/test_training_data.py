import subprocess

from scripts.servers import ROOT, VENV_BIN


def test_rasa_data_validate_passes():
    result = subprocess.run(
        [str(VENV_BIN / "rasa"), "data", "validate", "--data", "bot/data", "--domain", "domain.yml", "--config", "config.yml"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "HOME": "/tmp"},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "conflict" not in result.stdout.lower().replace("no story structure conflicts", "")
