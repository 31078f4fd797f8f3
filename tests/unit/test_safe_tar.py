"""safe_tar refuses what tarfile's data filter refuses, whatever the Python (issue 26, finding 12)."""

import tarfile

import pytest

from metaflow_kestra.safe_tar import refusal


def member(name, kind=tarfile.REGTYPE, linkname="", mode=0o644):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, linkname, mode
    return info


@pytest.mark.parametrize("info, reason", [
    (member("../outside.py"), "leaves the target"),
    (member("a/../../outside.py"), "leaves the target"),
    (member("/etc/cron.d/x"), "leaves the target"),
    (member("a/link", tarfile.SYMTYPE, "../../etc"), "links out"),
    (member("link", tarfile.SYMTYPE, "/etc/passwd"), "links out"),
    (member("hard", tarfile.LNKTYPE, "flow.py"), "hard link"),
    (member("dev", tarfile.CHRTYPE), "neither a file"),
    (member("fifo", tarfile.FIFOTYPE), "neither a file"),
    (member("suid", mode=0o4755), "setuid"),
])
def test_a_member_the_data_filter_refuses_is_refused(info, reason):
    assert reason in refusal(info)


@pytest.mark.parametrize("info", [
    member("flow.py"), member("pkg/mod.py"), member("pkg", tarfile.DIRTYPE, mode=0o755),
    member("pkg/alias.py", tarfile.SYMTYPE, "mod.py"), member("a/b/link", tarfile.SYMTYPE, "../c"),
])
def test_what_a_code_package_holds_passes(info):
    assert refusal(info) is None
