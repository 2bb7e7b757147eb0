import epc_fakes  # noqa: F401
from charmhelpers_mecpool import status


def test_redact_case_insensitive_and_longest_first():
    key = "8BAF473F2F8FD09487CCCBD7097C6862"
    text = "oai_hss --key 8baf473f2f8fd09487cccbd7097c6862 op=" + key[:8]
    out = status.redact(text, [key, key[:8]])
    assert key.lower() not in out and key[:8] not in out
    assert out == "oai_hss --key *** op=***"
    assert status.redact(None, [key]) is None
    assert status.redact("abc", ["", None]) == "abc"


def test_short_is_one_line_and_bounded():
    assert status.short("a\n b\tc") == "a b c"
    long = "x" * 500
    out = status.short(long)
    assert len(out) == status.MAX_LEN and out.endswith("...")


def test_error_message_redacts():
    err = RuntimeError("failed with key DEADBEEFDEADBEEFDEADBEEFDEADBEEF")
    assert "DEADBEEF" not in status.error_message(err, ["deadbeefdeadbeefdeadbeefdeadbeef"])


def test_helpers():
    assert status.ready("HSS") == "HSS ready"
    assert status.ready("HSS", "3868 listening") == "HSS ready: 3868 listening"
    assert status.waiting_for("HSS 10.0.0.1:3868") == "waiting for HSS 10.0.0.1:3868"
    assert status.not_configured() == "run the 'configure' action"
