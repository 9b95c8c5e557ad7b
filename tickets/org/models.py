"""The organisation: units (承办单位 tree), categories (事项分类 tree), routing catalogue, users."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models


class UnitKind(models.TextChoices):
    CENTRE = "centre", "热线中心"
    DEPARTMENT = "department", "职能部门"
    DISTRICT = "district", "区（县）"
    STREET = "street", "街道（乡镇）"
    COMMUNITY = "community", "社区（村）"
    UTILITY = "utility", "公共服务企业"


# Unit groups for rankings (domain.md §6): each kind belongs to one group.
UNIT_GROUPS: dict[str, str] = {
    UnitKind.DEPARTMENT: "departments",
    UnitKind.DISTRICT: "districts",
    UnitKind.STREET: "streets",
    UnitKind.COMMUNITY: "streets",
    UnitKind.UTILITY: "utilities",
    UnitKind.CENTRE: "centre",
}
TERRITORIAL_KINDS = frozenset({UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY})
# 街道 and 社区: the grassroots level a functional department's matter must never be pushed down to.
STREET_LEVEL_KINDS = frozenset({UnitKind.STREET, UnitKind.COMMUNITY})


class Unit(models.Model):
    """承办单位: a department, district, street, community or utility that resolves tickets."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Materialised path of codes ("/d-donghu/s-xinhua/"): "unit and all its descendants" is one
    # indexed prefix match, so visibility checks do not walk the tree.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    aliases = models.JSONField(default=list, blank=True, help_text="常用别称，例如 西湖区 → 西湖")
    liaison_name = models.CharField("联络人", max_length=64, blank=True)
    liaison_phone = models.CharField("联络电话", max_length=20, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["kind", "path"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.path = (self.parent.path if self.parent else "/") + f"{self.code}/"
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def group(self) -> str:
        return UNIT_GROUPS[self.kind]

    def clean(self) -> None:
        if self.parent_id and self.parent and self.parent.path and self.path and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": "上级单位不能是本单位或其下级单位"})


class Category(models.Model):
    """事项分类: a node of the category tree; the classifier predicts top-level names."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=255, db_index=True, editable=False)
    # Work that belongs to a functional department must never be pushed down to a street.
    is_functional = models.BooleanField("职能部门事项", default=False)
    auto_dispatch_threshold = models.FloatField(
        "自动派单置信度阈值", null=True, blank=True, help_text="为空时使用城市配置的默认阈值"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.path = (self.parent.path if self.parent else "/") + f"{self.code}/"
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def is_functional_matter(self) -> bool:
        """职能部门事项: this category or one of its ancestors is marked functional."""
        return any(node.is_functional for node in self.lineage())

    def lineage(self) -> list[Category]:
        """This category and its ancestors, nearest first."""
        chain: list[Category] = []
        node: Category | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class RoutingRule(models.Model):
    """派单目录: category × jurisdiction → lead unit (主办) and assisting units (协办)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="routing_rules")
    jurisdiction = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="空表示不限属地（按事项分类兜底）",
    )
    lead_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="lead_rules")
    assisting_units = models.ManyToManyField(Unit, blank=True, related_name="assisting_rules")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category", "jurisdiction"], name="routing_rule_unique"),
            models.UniqueConstraint(
                fields=["category"], condition=models.Q(jurisdiction__isnull=True), name="routing_rule_unique_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} × {self.jurisdiction or '全市'} → {self.lead_unit}"

    def clean(self) -> None:
        if self.category_id and self.lead_unit_id and functional_matter_refuses(self.category, self.lead_unit):
            raise ValidationError({"lead_unit": FUNCTIONAL_MATTER_MESSAGE})


FUNCTIONAL_MATTER_MESSAGE = "职能部门事项不得派给街道或社区"


def functional_matter_refuses(category: Category | None, unit: Unit) -> bool:
    """A functional department's matter (职能部门事项) never goes to a street or community.

    The one rule behind dispatch, 下派, the routing catalogue and its admin form: the category or
    any of its ancestors is marked functional, and the unit is at street level.
    """
    return category is not None and unit.kind in STREET_LEVEL_KINDS and category.is_functional_matter()


class Role(models.TextChoices):
    OPERATOR = "operator", "话务员"
    DISPATCHER = "dispatcher", "派单员/审核员"
    UNIT_STAFF = "unit_staff", "承办单位人员"
    SUPERVISOR = "supervisor", "督办员"
    ADMIN = "admin", "管理员"


CENTRE_ROLES = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")

    @property
    def is_centre(self) -> bool:
        return self.role in CENTRE_ROLES or self.is_superuser

    @property
    def is_unit_staff(self) -> bool:
        return self.role == Role.UNIT_STAFF and not self.is_superuser

    def clean(self) -> None:
        if self.role == Role.UNIT_STAFF and not self.unit_id:
            raise ValidationError({"unit": "承办单位人员必须属于一个单位"})


class SavedView(models.Model):
    """常用筛选: a staff member's named ticket-list filter (the list page's query string), theirs alone."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField("名称", max_length=40)
    query = models.CharField("筛选条件", max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_user_name")]

    def __str__(self) -> str:
        return self.name
