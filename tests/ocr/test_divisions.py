"""GB/T 2260 divisions: address and issuing-authority checks and look-alike corrections (text only)."""

from kyc.ocr.cn_id import check_address, check_authority
from kyc.ocr.divisions import authority_division, correct_division, is_complete, match_division


def test_address_division_down_to_the_county():
    d = match_division("广东省深圳市南山区建设大道173号")
    assert d.text == "广东省深圳市南山区" and "440305" in d.codes and is_complete(d)
    assert not is_complete(match_division("广东省深圳市建设大道173号"))  # the district is missing
    assert is_complete(match_division("广东省东莞市虎门镇"))  # a city without counties
    assert is_complete(match_division("北京市东城区和平路"))  # a municipality: no prefecture
    long_name = "甘肃省临夏回族自治州积石山保安族东乡族撒拉族自治县青振街道"
    assert is_complete(match_division(long_name))


def test_only_look_alikes_are_corrected_and_only_in_the_division_part():
    assert correct_division("广东省深圳市南山匹建设大道") == "广东省深圳市南山区建设大道"  # 匹 looks like 区
    # 深训: 训 is not a look-alike of 圳; nothing is guessed.
    assert correct_division("广东省深训市南山区建设大道") == "广东省深训市南山区建设大道"
    # The street part is never touched, even where it holds look-alike characters.
    assert correct_division("广东省深圳市南山区建设大道173亏") == "广东省深圳市南山区建设大道173亏"


def test_address_checks_and_region_mismatch_is_a_reason_not_a_failure():
    ok = check_address("广东省深圳市南山区建设大道173号", "440305199001010011")
    assert ok["address_division"].ok and ok["address_region"].ok and ok["address_region"].code is None
    moved = check_address("北京市东城区和平路12号", "440305199001010011")
    assert moved["address_region"].ok and moved["address_region"].code == "address_region_mismatch"
    bad = check_address("广东铁圳市司山市设大道173亏7标", "440305199001010011")
    assert not bad["address_division"].ok and bad["address_division"].code == "address_division_unknown"


def test_issuing_authority_forms():
    for good in ("深圳市公安局南山分局", "宁德市屏南县公安局", "楚雄彝族自治州楚雄市公安局", "青岛市公安局市南分局"):
        assert check_authority(good)["issuing_authority_division"].ok, good
    for bad in ("深圳市公安局南门分局", "楚雄韩族自治州楚雄市公安局", "深圳市税务局"):
        assert not check_authority(bad)["issuing_authority_division"].ok, bad
    div, fixed = authority_division("楚雄彜族自治州楚雄市公安局")  # 彜 is a variant of 彝
    assert fixed == "楚雄彝族自治州楚雄市公安局" and "532301" in div.codes
