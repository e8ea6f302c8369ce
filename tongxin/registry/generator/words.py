"""The generator's vocabularies: surnames and given-name characters (with groups of homophones for
the planted same-pinyin copies), ethnicities, work places away, parents' conditions, children's
disabilities, illnesses and school grades, phone prefixes; and the cached pinyin keys of the
names drawn from them."""

from __future__ import annotations

from functools import lru_cache

from tongxin.lib.pinyin import name_keys

# Common surnames, the most frequent first (weights fall off with rank). Characters whose
# reading depends on context (曾, 单, 乐, 查 …) are left out so that pinyin keys are stable.
SURNAMES = (
    "王张李刘杨陈赵马魏何郭孙徐高朱周吴胡罗石韩董蒋程雷冯贾田潘许曹谢黄郑宋孟常牛樊姚闫任柴"
    "寇盛俞苏吕丁汪范金崔邓彭袁于鲁蔡段薛秦白武康尹梁安付陆严毛"
)
SURNAME_WEIGHTS = tuple(1 / (rank + 4) for rank in range(len(SURNAMES)))
BOY_CHARS = (
    "伟强磊军勇杰涛明超浩宇轩博文鑫鹏辉晨俊凯睿泽昊翔航然子梓天嘉佳志建国海峰阳亮斌鸿瑞锦恒旭毅诚"
)
GIRL_CHARS = (
    "静丽娟敏艳芳婷雪琳欣怡涵萱悦雨梦佳慧颖琪晶洁蕾璐瑶倩茹妍馨彤玥诗雅梓紫思嘉可心晓春月楠蓉"
)
# Characters read alike without tones (name_keys drops tones): a name rewritten with one of its
# characters swapped for another of the same group has the same pinyin key.
_HOMOPHONE_LINES = (
    "张章 王汪 李黎 刘柳 徐许 何贺 马麻 伟玮炜薇 静晶婧菁 丽莉俐 杰洁婕 涛韬 明铭鸣 浩昊皓豪",
    "宇雨语羽 欣馨心新鑫 佳嘉家 梓子紫 怡宜仪依 轩萱宣 涵晗寒 晨辰宸 雪学 磊蕾 婷庭 芳方",
    "敏民 琳林霖 瑶遥 鹏朋 辉慧惠 凯楷 睿瑞 翔祥 航杭 峰锋丰 杨阳洋扬 斌彬滨 毅艺逸 程成诚",
    "悦月越 颖莹盈 琪琦淇 璐露路 彤童桐 妍研 楠南 蓉荣容 娟鹃 艳燕 军君 文雯 志智 建健剑",
    "鸿宏洪 锦瑾 旭栩",
)
HOMOPHONES = tuple(group for line in _HOMOPHONE_LINES for group in line.split())
HOMOPHONES_OF = {c: group.replace(c, "") for group in HOMOPHONES for c in group}

ETHNICITIES = (("汉族", 96.0), ("回族", 2.0), ("藏族", 0.7), ("裕固族", 0.7), ("蒙古族", 0.6))

OUT_OF_PROVINCE = (
    ("浙江省宁波市", 4),
    ("浙江省杭州市", 3),
    ("浙江省义乌市", 2),
    ("新疆维吾尔自治区乌鲁木齐市", 4),
    ("新疆维吾尔自治区昌吉回族自治州", 2),
    ("新疆维吾尔自治区哈密市", 2),
    ("广东省东莞市", 3),
    ("广东省深圳市", 2),
    ("广东省佛山市", 1),
    ("江苏省苏州市", 2),
    ("内蒙古自治区阿拉善盟", 1),
    ("青海省西宁市", 1),
    ("宁夏回族自治区银川市", 1),
    ("陕西省西安市", 1),
)
OUT_OF_COUNTY = (
    ("甘肃省张掖市甘州区", 5),
    ("甘肃省酒泉市肃州区", 4),
    ("甘肃省嘉峪关市", 3),
    ("甘肃省兰州市", 2),
    ("甘肃省金昌市", 1),
    ("甘肃省酒泉市玉门市", 1),
)
IN_COUNTY_PLACES = ("工业园区", "县城建筑工地", "农业合作社")
PARENT_CONDITIONS = {
    "serious_illness": ("尿毒症，长期透析", "癌症术后，长期治疗", "重度抑郁，长期服药"),
    "serious_disability": ("肢体残疾一级", "智力残疾二级", "精神残疾二级", "视力残疾一级"),
    "imprisoned": ("服刑，刑期五年", "服刑，刑期八年"),
    "compulsory_detox": ("强制隔离戒毒两年",),
    "restricted_freedom": ("被羁押候审",),
}
DISABILITY_TYPES = ("视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾", "精神残疾")
ILLNESSES = ("白血病", "先天性心脏病", "肾病综合征", "癫痫", "再生障碍性贫血", "1型糖尿病")
GRADES = {
    "primary": ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级"),
    "junior": ("七年级", "八年级", "九年级"),
    "senior": ("高一", "高二", "高三"),
    "vocational": ("一年级", "二年级", "三年级"),
    "kindergarten": ("小班", "中班", "大班"),
}
PHONE_PREFIXES = ("139", "138", "137", "135", "159", "158", "187", "188", "189", "177", "133")


@lru_cache(maxsize=4096)
def _char_keys(char: str) -> tuple[str, str]:
    return name_keys(char)


def pinyin_keys(name: str) -> tuple[str, str]:
    """``name_keys(name)``, built from the cached keys of each character: the generator's
    characters read the same alone and inside a name (the tests check it), and pypinyin costs
    tens of microseconds a name."""
    parts = [_char_keys(c) for c in name]
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts)
