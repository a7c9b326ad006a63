"""Names: plausible characters, the minority ``·`` form, doubt on rare look-alikes (text only)."""

import pytest

from kyc.ocr.names import check_name, is_common, name_confidence, normalise_name


@pytest.mark.parametrize("read, name", [("买买提 • 艾力", "买买提·艾力"), ("阿依古丽．吐尔逊", "阿依古丽·吐尔逊"), ("欧阳 明", "欧阳明")])
def test_minority_dot_variants_become_the_middle_dot(read, name):
    assert normalise_name(read) == name
    assert check_name(name)["name_plausible"].ok


@pytest.mark.parametrize("name", ["性别女民族哈尼", "张3", "A明", "·艾力", "买买提·", "王"])
def test_implausible_names_fail(name):
    check = check_name(name)["name_plausible"]
    assert not check.ok and check.code == "name_implausible"


def test_rare_look_alike_lowers_confidence_common_and_rare_alone_do_not():
    assert is_common("曾") and not is_common("會")
    assert name_confidence("會霞红", 0.99) < 0.8  # 會 (rare here) looks like 曾 (common)
    assert name_confidence("曾霞红", 0.99) == 0.99
    assert name_confidence("王燚", 0.99) == 0.99  # rare, but no common look-alike: a real name character
