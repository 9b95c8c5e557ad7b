"""The demo city (演示市): units, categories and the routing catalogue, as data."""

from __future__ import annotations

CENTRE = ("centre", "演示市12345热线中心")

DEPARTMENTS = [
    ("zjj", "市住建局"),
    ("sthjj", "市生态环境局"),
    ("jtysj", "市交通运输局"),
    ("jyj", "市教育局"),
    ("rsj", "市人社局"),
    ("scjgj", "市市场监管局"),
    ("wjw", "市卫健委"),
    ("cgj", "市城管局"),
    ("swj", "市商务局"),
    ("wlj", "市文旅局"),
]
UTILITIES = [("swjt", "市水务集团"), ("gdgs", "市供电公司"), ("rqjt", "市燃气集团")]

# district code, name, aliases, [(street code, street name, [community names])]
DISTRICTS = [
    (
        "donghu",
        "东湖区",
        ["东湖"],
        [
            ("xinhua", "新华街道", ["新华社区", "光明社区"]),
            ("hubin", "湖滨街道", ["湖滨社区"]),
            ("dongguan", "东关街道", ["东关社区"]),
        ],
    ),
    (
        "xishan",
        "西山区",
        ["西山"],
        [
            ("shanqian", "山前街道", ["山前社区"]),
            ("qingyun", "青云街道", ["青云社区"]),
            ("lihu", "丽湖街道", ["丽湖社区"]),
        ],
    ),
    (
        "nancheng",
        "南城区",
        ["南城"],
        [
            ("nanmen", "南门街道", ["南门社区"]),
            ("yongan", "永安街道", ["永安社区"]),
            ("heping", "和平街道", ["和平社区"]),
        ],
    ),
    (
        "beitang",
        "北塘区",
        ["北塘"],
        [
            ("beiguan", "北关街道", ["北关社区"]),
            ("tangxi", "塘西街道", ["塘西社区"]),
            ("xinglong", "兴隆街道", ["兴隆社区"]),
        ],
    ),
    (
        "jiangbin",
        "江滨区",
        ["江滨"],
        [
            ("binjiang", "滨江街道", ["滨江社区"]),
            ("matou", "码头街道", ["码头社区"]),
            ("wanghai", "望海街道", ["望海社区"]),
        ],
    ),
    (
        "gaoxin",
        "高新区",
        ["高新", "高新开发区"],
        [
            ("kechuang", "科创街道", ["科创社区"]),
            ("zhihui", "智慧街道", ["智慧社区"]),
            ("yuanqu", "园区街道", ["园区社区"]),
        ],
    ),
]

# (code, name, functional, parent code or None)
CATEGORIES = [
    ("cxjs", "城乡建设", False, None),
    ("wygl", "物业管理", False, "cxjs"),
    ("wzjz", "违章建筑", False, "cxjs"),
    ("fwzl", "房屋质量", True, "cxjs"),
    ("sdq", "供水供电供气", True, "cxjs"),
    ("szss", "市政设施", False, "cxjs"),
    ("hjbh", "环境保护", False, None),
    ("zswr", "噪声污染", False, "hjbh"),
    ("dqwr", "大气污染", True, "hjbh"),
    ("swr", "水污染", True, "hjbh"),
    ("yyrm", "油烟扰民", False, "hjbh"),
    ("jtys", "交通运输", False, None),
    ("gjxl", "公交线路", True, "jtys"),
    ("czc", "出租车网约车", True, "jtys"),
    ("wztc", "违章停车", False, "jtys"),
    ("dlyh", "道路养护", True, "jtys"),
    ("jywt", "教育文体", True, None),
    ("rxxw", "入学学位", True, "jywt"),
    ("xwpx", "校外培训", True, "jywt"),
    ("wtss", "文体设施", True, "jywt"),
    ("ldsb", "劳动和社会保障", True, None),
    ("tqgz", "拖欠工资", True, "ldsb"),
    ("sbyb", "社保医保", True, "ldsb"),
    ("jycy", "就业创业", True, "ldsb"),
    ("smly", "商贸旅游", True, None),
    ("xfjf", "消费纠纷", True, "smly"),
    ("yfk", "预付卡退费", True, "smly"),
    ("lyts", "旅游投诉", True, "smly"),
    ("wsjs", "卫生计生", True, None),
    ("ylfw", "医疗服务", True, "wsjs"),
    ("ymjz", "疫苗接种", True, "wsjs"),
    ("spaq", "食品安全", True, "wsjs"),
]

# Category-only rules: category → (lead unit code, [assisting unit codes])
CITY_RULES = {
    "cxjs": ("zjj", []),
    "fwzl": ("zjj", []),
    "sdq": ("swjt", ["gdgs", "rqjt"]),
    "hjbh": ("sthjj", []),
    "dqwr": ("sthjj", []),
    "swr": ("sthjj", ["swjt"]),
    "jtys": ("jtysj", []),
    "gjxl": ("jtysj", []),
    "czc": ("jtysj", []),
    "dlyh": ("jtysj", []),
    "jywt": ("jyj", []),
    "rxxw": ("jyj", []),
    "xwpx": ("jyj", []),
    "wtss": ("wlj", []),
    "ldsb": ("rsj", []),
    "tqgz": ("rsj", []),
    "sbyb": ("rsj", []),
    "jycy": ("rsj", []),
    "smly": ("scjgj", []),
    "xfjf": ("scjgj", []),
    "yfk": ("scjgj", ["swj"]),
    "lyts": ("wlj", []),
    "wsjs": ("wjw", []),
    "ylfw": ("wjw", []),
    "ymjz": ("wjw", []),
    "spaq": ("scjgj", ["wjw"]),
}
# Territorial (属地) categories: category × each district → the district, with assisting departments.
DISTRICT_RULES = {
    "cxjs": [],
    "wygl": ["zjj"],
    "wzjz": ["cgj"],
    "szss": ["cgj"],
    "hjbh": [],
    "zswr": ["sthjj"],
    "yyrm": ["cgj"],
    "jtys": [],
    "wztc": [],
}

PASSWORD = "demo-12345"  # noqa: S105 - demo accounts, printed by seed_demo
ADMIN_PASSWORD = "admin-12345"  # noqa: S105 - demo accounts, printed by seed_demo
