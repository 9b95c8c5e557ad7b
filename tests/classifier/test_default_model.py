"""The model the product starts with routes plain demo-city requests correctly."""

import csv

import pytest

from classifier.default_model import DEMO_TRAIN_PATH, ensure_default_model
from classifier.registry import ModelRegistry

OBVIOUS = {
    "东湖区幸福路小区楼下烧烤店油烟太大，窗户都不敢开": "环境保护",
    "北塘区工地半夜施工噪音扰民，请环保部门管管": "环境保护",
    "老板拖欠了我们三个月的工资，一直不给": "劳动和社会保障",
    "我换了工作，社保转移到南城区要怎么办理": "劳动和社会保障",
    "孩子明年上小学，我们小区划片的学校学位不够": "教育文体",
    "西山区公交线路太少，早上等车要半小时": "交通运输",
    "江滨区学校门口天天违章停车，堵得走不动": "交通运输",
    "高新区小区物业乱收费，电梯坏了也不修": "城乡建设",
    "楼顶有人私搭乱建违建房屋，请城管处理": "城乡建设",
    "健身房倒闭了，预付卡退费找不到人": "商贸旅游",
    "超市卖过期食品，食品安全没人管吗": "商贸旅游",
    "医保报销比例太低，住院花了好几万": "卫生计生",
    "孩子打疫苗的社区卫生服务中心排队太久": "卫生计生",
}


def test_demo_training_set_is_big_enough_and_covers_the_seven_categories():
    with DEMO_TRAIN_PATH.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["label"]] = counts.get(row["label"], 0) + 1
    assert set(counts) == {
        "城乡建设",
        "环境保护",
        "交通运输",
        "教育文体",
        "劳动和社会保障",
        "商贸旅游",
        "卫生计生",
    }
    assert min(counts.values()) >= 40
    assert len({row["text"] for row in rows}) == len(rows)


@pytest.fixture(scope="module")
def demo_registry(tmp_path_factory):
    folder = tmp_path_factory.mktemp("default-models")
    version = ensure_default_model(folder)
    return folder, version


def test_ensure_default_model_trains_and_activates_once(demo_registry):
    folder, version = demo_registry
    assert version.startswith("demo-")
    assert ModelRegistry(folder).active_version() == version
    assert ensure_default_model(folder) == version  # second start: nothing to do
    assert len(list(folder.glob("*.model"))) == 1


@pytest.mark.parametrize(("text", "label"), OBVIOUS.items())
def test_demo_model_routes_obvious_requests(demo_registry, text, label):
    prediction = ModelRegistry(demo_registry[0]).predict(text)
    assert prediction.label == label, prediction


def test_default_model_replaces_a_folder_whose_models_are_all_broken(tmp_path):
    version = ensure_default_model(tmp_path)
    (tmp_path / f"{version}.model").write_bytes(b"broken")
    replacement = ensure_default_model(tmp_path)
    assert replacement != version
    assert ModelRegistry(tmp_path).active_version() == replacement
    assert ModelRegistry(tmp_path, check_interval=0).predict("拖欠工资").label == "劳动和社会保障"
