"""Realistic 12345 complaint texts for the bulk generator: fragments per top-level category.

Texts are assembled from a place, a problem of the category, how long it has lasted, its effect
and a request, so their lengths (roughly 60–300 characters) and vocabulary look like real calls.
"""

from __future__ import annotations

import random

PROBLEMS: dict[str, list[str]] = {
    "cxjs": [
        "小区物业长期不打扫楼道，垃圾堆放在楼梯间无人清理",
        "楼顶有人私自加盖彩钢房，存在严重的安全隐患",
        "电梯经常故障停运，老人上下楼非常困难",
        "小区外墙瓷砖脱落，已经砸坏了楼下停放的车辆",
        "自来水管爆裂后一直没有修复，路面积水结冰",
        "路边窨井盖缺失，晚上行人经过很危险",
        "新交付的商品房墙体开裂渗水，开发商拒不维修",
    ],
    "hjbh": [
        "楼下烧烤店每晚营业到凌晨两点，油烟和噪音严重影响居民休息",
        "建筑工地夜间施工，混凝土泵车噪声很大",
        "附近工厂排放刺鼻废气，晚上气味尤其明显",
        "河道有工厂偷排污水，河水发黑发臭",
        "广场舞音响声音太大，每天晚上持续到十点以后",
        "小区旁边的垃圾中转站臭味很重，夏天蚊蝇滋生",
    ],
    "jtys": [
        "公交车站台被拆除后一直没有恢复，老人等车很不方便",
        "网约车司机绕路多收费，投诉平台不处理",
        "路口长期有车辆占用人行道违停，行人只能走机动车道",
        "道路坑洼不平，下雨后积水严重，电动车经常摔倒",
        "出租车拒载现象严重，晚上下班打车非常困难",
        "红绿灯时长设置不合理，早晚高峰堵车严重",
    ],
    "jywt": [
        "孩子今年满六周岁，想咨询小学划片入学需要准备哪些材料",
        "校外培训机构倒闭，预交的学费无法退还",
        "学校周边有网吧违规接纳未成年人",
        "幼儿园收费标准不透明，额外收取各种费用",
        "社区文化活动中心长期关闭，居民没有活动场所",
    ],
    "ldsb": [
        "公司已拖欠三个月工资共两万余元，老板失联",
        "想咨询灵活就业人员如何在本市缴纳职工养老保险",
        "单位不给缴纳社保，离职后也不出具离职证明",
        "医保异地报销手续繁琐，材料提交后迟迟没有结果",
        "工地包工头拖欠农民工工资，年底了还没有结清",
    ],
    "smly": [
        "在健身房办了年卡，现在门店关门，预付卡里还有三千元无法退还",
        "网购的家电有质量问题，商家拒绝退换",
        "景区门票价格与公示不符，存在乱收费现象",
        "超市销售过期食品，店员态度恶劣拒绝处理",
        "美容店诱导办理高额会员卡，合同条款明显不公平",
    ],
    "wsjs": [
        "医院挂号排队时间太长，希望增加自助机和网上预约号源",
        "想咨询儿童接种水痘疫苗需要提前预约吗",
        "餐馆后厨卫生很差，吃完饭后家人腹泻，怀疑食品不安全",
        "社区卫生服务中心药品经常缺货，慢性病患者买药困难",
        "诊所无证行医，存在很大的医疗安全隐患",
    ],
}

PLACES = [
    "幸福小区",
    "阳光花园",
    "和平里",
    "滨江一号",
    "锦绣家园",
    "丽湖新村",
    "翠苑小区",
    "东方广场",
    "人民路",
    "解放路",
]
DURATIONS = ["已经持续一周了", "已有一个多月", "反映过多次", "半年来一直如此", "最近三天尤其严重", ""]
IMPACTS = [
    "严重影响周边居民的正常生活。",
    "居民意见很大，多次向物业和社区反映都没有结果。",
    "家里有老人和小孩，安全得不到保障。",
    "周围很多商户和住户都受到了影响。",
    "给出行带来很大不便。",
]
REQUESTS = [
    "希望有关部门尽快核实处理，并给予答复。",
    "请求相关部门依法查处，还居民一个安静的环境。",
    "请帮忙协调解决，谢谢！",
    "希望政府部门重视，尽快解决这个问题。",
    "请尽快派人到现场查看。",
]
DETAILS = [
    "之前拨打过物业电话，对方说会处理，但一直没有人来。",
    "我们已经拍了照片和视频，可以提供给处理人员。",
    "附近还有一所小学，孩子们每天都要经过这里。",
    "社区工作人员来看过一次，之后就没有下文了。",
    "希望处理结果能够及时反馈给我，我的电话一直畅通。",
]
NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["先生", "女士", "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰"]


def text_pool(rng: random.Random, places: list[str], size: int) -> dict[str, list[str]]:
    """`size` texts per top-level category code, each mentioning one of `places` (unit names)."""
    pool: dict[str, list[str]] = {}
    for top, problems in PROBLEMS.items():
        texts = []
        for _ in range(size):
            parts = [
                rng.choice(places),
                rng.choice(PLACES),
                rng.choice(problems),
                "，",
                rng.choice(DURATIONS),
                "，" if DURATIONS else "",
                rng.choice(IMPACTS),
            ]
            for _ in range(rng.randint(0, 3)):
                parts.append(rng.choice(DETAILS))
            parts.append(rng.choice(REQUESTS))
            texts.append("".join(parts).replace("，，", "，"))
        pool[top] = texts
    return pool


def citizen_names(rng: random.Random, size: int) -> list[str]:
    return [rng.choice(NAMES) + rng.choice(GIVEN) for _ in range(size)]
