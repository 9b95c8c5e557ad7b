"""Who acts: a user, the classifier, the scheduler, a citizen or the system."""

from __future__ import annotations

from dataclasses import dataclass

from tickets.core.models import ActorKind, Assignment
from tickets.core.privacy import CITIZEN_LABEL
from tickets.errors import NotPermitted
from tickets.org.models import Role, User


@dataclass(frozen=True)
class Actor:
    kind: str
    user: User | None = None
    label: str = ""

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(ActorKind.USER, user, user.get_username())

    @classmethod
    def classifier(cls, version: str = "") -> Actor:
        return cls(ActorKind.CLASSIFIER, None, version)

    @classmethod
    def scheduler(cls) -> Actor:
        return cls(ActorKind.SCHEDULER, None, "scheduler")

    @classmethod
    def citizen(cls) -> Actor:
        """The citizen acting on their own ticket (web, app, SMS). The label is the same for every
        citizen: their number stays on the ticket and the inbound rows, never in the history."""
        return cls(ActorKind.CITIZEN, None, CITIZEN_LABEL)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, None, label)

    @property
    def is_user(self) -> bool:
        return self.user is not None

    def require_role(self, *roles: str) -> None:
        """Machines (classifier, scheduler, system) act only through services that allow them."""
        if self.user is None:
            return
        if self.user.is_superuser or self.user.role in roles:
            return
        names = "、".join(Role(r).label for r in roles)
        raise NotPermitted(f"此操作仅限{names}", rule="role")

    def require_unit_of(self, assignment: Assignment) -> None:
        """Unit operations belong to the staff of the assigned unit itself; ancestors only watch."""
        if self.user is None or self.user.is_superuser:
            return
        unit = self.user.unit
        if self.user.role != Role.UNIT_STAFF or unit is None or assignment.unit_id != unit.id:
            raise NotPermitted("只有承办单位人员可以办理本单位的派单", rule="unit_only")
