import sys

import pytest

import epc_fakes  # noqa: F401
from charmhelpers_mecpool import process
from charmhelpers_mecpool.errors import CommandError

PY = sys.executable


def test_run_captures_output_and_env():
    result = process.run([PY, "-c", "import os,sys; print(os.environ['X1']); "
                          "sys.stderr.write('err')"], env={"X1": "hello"})
    assert result.ok and result.stdout == "hello\n" and result.stderr == "err"


def test_run_passes_input():
    result = process.run([PY, "-c", "import sys; print(sys.stdin.read().upper())"],
                         input_text="abc")
    assert result.stdout.strip() == "ABC"


def test_failure_carries_command_code_stderr_redacted():
    secret = "0123456789ABCDEF0123456789ABCDEF"
    with pytest.raises(CommandError) as info:
        process.run([PY, "-c", "import sys; sys.stderr.write('bad key ' + sys.argv[1]); "
                     "sys.exit(3)", secret], secrets=[secret])
    err = info.value
    assert err.returncode == 3
    assert secret not in str(err) and secret not in err.stderr and secret not in " ".join(err.argv)
    assert "bad key ***" in err.stderr and "exit code 3" in str(err)


def test_check_false_returns_result():
    result = process.run([PY, "-c", "import sys; sys.exit(4)"], check=False)
    assert result.returncode == 4 and not result.ok


def test_timeout():
    with pytest.raises(CommandError) as info:
        process.run([PY, "-c", "import time; time.sleep(5)"], timeout=0.5)
    assert info.value.returncode is None and "timed out after 0.5 s" in str(info.value)


def test_missing_binary():
    with pytest.raises(CommandError) as info:
        process.run(["/nonexistent/binary-xyz"])
    assert info.value.returncode == 127 and "cannot run" in str(info.value)


def test_log_path_collects_output_and_tail_in_error(tmp_path):
    log = tmp_path / "build.log"
    process.run([PY, "-c", "print('step one')"], log_path=str(log))
    with pytest.raises(CommandError) as info:
        process.run([PY, "-c", "import sys; print('step two'); sys.stderr.write('boom'); "
                     "sys.exit(2)"], log_path=str(log))
    text = log.read_text()
    assert "step one" in text and "step two" in text and "boom" in text
    assert "boom" in info.value.stderr


def test_argv_must_be_list_of_strings():
    with pytest.raises(TypeError):
        process.run("echo hi")
    with pytest.raises(TypeError):
        process.run(["echo", 3])


def test_a_timeout_ends_the_whole_process_group(tmp_path):
    """git fetch and apt-get start helpers (index-pack, dpkg): a timeout must end
    them too, or they run on holding the locks the next run needs."""
    import os
    import time
    pidfile = tmp_path / "child.pid"
    script = "sleep 30 & echo $! > {}; wait".format(pidfile)
    started = time.monotonic()
    with pytest.raises(CommandError) as error:
        process.run(["sh", "-c", script], timeout=1)
    assert time.monotonic() - started < 1 + process.KILL_GRACE + 2  # not the child's 30 s
    assert error.value.timed_out
    child = int(pidfile.read_text())
    with pytest.raises(OSError):
        for _ in range(50):
            os.kill(child, 0)
            time.sleep(0.1)
