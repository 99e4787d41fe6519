import pytest

from bench.errors import ToolMissing, ToolTimeout
from bench.tools import runner


def test_records_argv_rc_output_and_timing_in_evidence() -> None:
    with runner.collecting() as ev:
        done = runner.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (done.rc, done.stdout, done.stderr) == (3, "out\n", "err\n")
    assert not done.ok and done.seconds >= 0 and done.started <= done.ended
    assert ev.to_list()[0]["argv"] == ["sh", "-c", "echo out; echo err >&2; exit 3"]


def test_forces_c_locale() -> None:
    assert runner.run(["sh", "-c", "echo $LC_ALL"]).stdout.strip() == "C"


def test_missing_program_names_the_debian_package() -> None:
    with pytest.raises(ToolMissing) as err:
        runner.run(["sg_definitely_not_here_xyz"])
    assert "apt-get install sg3-utils" in err.value.hint
    assert runner.debian_package("/usr/sbin/nvme") == "nvme-cli"


def test_timeout_kills_the_whole_process_group() -> None:
    done = runner.run(["sh", "-c", "sleep 30 & sleep 30"], timeout=0.5)
    assert done.timed_out and not done.ok and done.seconds < 10
    with pytest.raises(ToolTimeout):
        runner.run(["sleep", "5"], timeout=0.2, raise_on_timeout=True)


def test_refuses_shell_strings() -> None:
    with pytest.raises(TypeError):
        runner.run("rm -rf /")  # type: ignore[arg-type]


def test_binary_and_invalid_utf8_output_is_kept_readable() -> None:
    done = runner.run(["printf", "\\377\\376ok"])
    assert done.stdout.endswith("ok") and "\ufffd" in done.stdout


def test_nothing_outside_the_runner_imports_subprocess() -> None:
    import pathlib

    root = pathlib.Path(runner.__file__).resolve().parents[1]
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "runner.py" and ("import subprocess" in p.read_text() or "from subprocess" in p.read_text())
    ]
    assert offenders == []


def test_a_child_that_keeps_the_pipe_open_after_the_kill_does_not_hang_the_caller() -> None:
    # The grandchild leaves the process group and keeps stdout open, as a process stuck in
    # kernel I/O would after SIGKILL: run() must still come back.
    done = runner.run(["sh", "-c", "setsid sleep 30 & sleep 30"], timeout=0.5)
    assert done.timed_out and done.seconds < 15
