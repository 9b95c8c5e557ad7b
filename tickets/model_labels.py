"""The Chinese names of every model and field the admin shows (issue 16, defect 5: no "Sla policys",
no English field labels).

One table, applied once by the model registry (`tickets/models.py`) as the models load, instead of a
`verbose_name=` edited into ~300 field definitions across fourteen domains: a new field without a
name here fails tests/ui/test_must_show.py (`test_every_model_and_field_has_a_chinese_name`), and
a field that already names itself in its definition keeps that name. Labels are data for the
admin and forms only; they change no column and are not recorded in migrations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Model → (verbose_name, verbose_name_plural). Chinese has no plural: both the same unless said.
MODELS: Mapping[str, str] = {
    "TicketNumberSequence": "工单号序列",
    "Ticket": "工单",
    "Assignment": "派单记录",
    "TicketEvent": "办理记录",
    "TicketAccessLog": "查看与导出记录",
    "TicketFingerprint": "工单文本指纹",
    "TicketBand": "指纹分桶",
    "DuplicateLink": "重复诉求关联",
    "HotspotAlert": "热点激增告警",
    "Rating": "市民评价",
    "RatingRequest": "评价邀请",
    "RatingCallback": "回访任务",
    "InboundMessage": "来件原文",
    "PhoneLine": "人工服务时间",
    "Call": "来电",
    "CallbackTask": "未接来电回拨",
    "VerificationCode": "短信验证码",
    "CitizenSession": "市民登录会话",
    "IdempotencyRecord": "重复提交记录",
    "PartnerKey": "合作方接入密钥",
    "BackgroundJob": "后台任务",
    "KbArticle": "知识库条目",
    "KbArticleVersion": "知识库条目版本",
    "KbProposal": "知识库更新提议",
    "LiveOutbox": "实时推送待发队列",
    "SmsMessage": "短信",
    "SmsOptOut": "短信退订",
    "UnitDayStats": "单位日统计",
    "UnitMonthStats": "单位月统计",
    "MetricsConfig": "考核指标配置",
    "Unit": "承办单位",
    "Category": "事项分类",
    "RoutingRule": "派单目录",
    "User": "工作人员",
    "AdminAlert": "管理员告警",
    "CityProfile": "城市配置",
    "SlaPolicy": "办理时限规则",
    "CalendarYear": "工作日历年度",
    "CalendarDay": "工作日历",
    "Supervision": "督办通知",
    "NoticeTemplate": "督办通知模板",
}

# Field names that mean the same everywhere.
COMMON: Mapping[str, str] = {
    "id": "编号",
    "created_at": "创建时间",
    "updated_at": "更新时间",
    "ticket": "工单",
    "unit": "单位",
    "round": "办理轮次",
    "state": "状态",
    "status": "状态",
    "phone": "电话号码",
    "note": "备注",
    "kind": "类型",
    "category": "事项分类",
    "is_active": "启用",
    "code": "代码",
    "name": "名称",
    "parent": "上级",
    "path": "层级路径",
    "profile": "城市配置",
    "key": "键",
    "day": "日期",
    "month": "月份",
    "year": "年份",
    "data": "数据",
    "label": "名称",
    "message": "内容",
    "title": "标题",
    "reason": "原因",
    "comment": "市民意见",
    "channel": "渠道",
    "expires_at": "过期时间",
    "attempts": "尝试次数",
    "answer": "答复内容",
    "question": "问题",
    "keywords": "关键词",
    "version": "版本",
    "valid_until": "有效期至",
    "valid_from": "生效日期",
    "owning_unit": "负责单位",
    "assignment": "派单记录",
    "user": "工作人员",
    "done_at": "完成时间",
    "done_by": "完成人",
    "source": "来源",
    "tokens": "分词",
    "token_count": "词数",
    "source_key": "来源标识",
    "payload": "参数",
    "result": "结果",
    "steps": "步骤",
    "progress": "进度",
    "finished_at": "结束时间",
    "started_by": "发起人",
    "started_at": "开始时间",
    "ended_at": "结束时间",
    "last_error": "最近错误",
    "event": "办理记录",
    "role": "岗位",
    "action": "操作",
    "detail": "详情",
    "occurrences": "出现次数",
    "last_seen_at": "最近出现",
    "resolved_at": "解决时间",
    "resolution": "处理说明",
    "date": "日期",
    "day_type": "日期类型",
    "imported_at": "导入时间",
    "is_current": "现行版本",
    "supersedes": "取代的版本",
    "sign_unit": "签收时限单位",
    "reply_unit": "办结时限单位",
    "level": "级别",
    "clock": "所涉时限",
    "recipients": "接收人",
    "issued_by": "发出人",
    "issued_by_label": "发出方",
    "sms_status": "短信状态",
    "notified_at": "通知时间",
    "body": "内容",
    "twilio_sid": "短信服务编号",
    "to_phone": "接收号码",
    "purpose": "用途",
    "next_attempt_at": "下次重试时间",
    "sent_at": "发送时间",
    "status_history": "状态记录",
    "satisfaction": "满意度",
    "reviewed_by": "审核人",
    "review_reason": "审核意见",
    "reviewed_at": "审核时间",
    "requested_at": "邀请时间",
    "operator": "话务员",
    "rating": "评价",
}

# Where a field means something particular to its model.
FIELDS: Mapping[str, str] = {
    "TicketNumberSequence.last": "当日最后序号",
    "Ticket.urgency": "紧急程度",
    "Ticket.kind": "诉求类型",
    "Ticket.text": "诉求内容",
    "Ticket.citizen_name": "市民姓名",
    "Ticket.citizen_phone": "市民电话",
    "Ticket.citizen_address": "地址",
    "Ticket.jurisdiction": "属地",
    "Ticket.lead_unit": "主办单位",
    "Ticket.merged_into": "并入的主工单",
    "Ticket.outcome": "办理结果",
    "Ticket.outcome_reason": "结果说明",
    "Ticket.reopen_count": "重办次数",
    "Ticket.units_passed": "经手主办单位数",
    "Ticket.classification": "智能分类建议",
    "Ticket.category_source": "分类确定方式",
    "Ticket.external_ref": "外部编号",
    "Ticket.created_by": "受理人",
    "Ticket.closed_at": "办结时间",
    "Assignment.unit_path": "单位层级路径",
    "Assignment.role": "主办/协办",
    "Assignment.parent": "上级派单",
    "Assignment.state_before_request": "申请前状态",
    "Assignment.dispatched_at": "派单时间",
    "Assignment.dispatched_by": "派单人",
    "Assignment.sign_due_at": "签收时限",
    "Assignment.reply_due_at": "办结时限",
    "Assignment.signed_at": "签收时间",
    "Assignment.replied_at": "办复时间",
    "Assignment.reply_text": "办复内容",
    "Assignment.return_reason": "退回理由",
    "Assignment.return_legal_basis": "退回依据",
    "Assignment.extension_until": "申请延期至",
    "Assignment.extension_reason": "延期理由",
    "Assignment.extension_count": "延期次数",
    "Assignment.sign_on_time": "按时签收",
    "Assignment.reply_on_time": "按时办结",
    "Assignment.note": "派单说明",
    "Assignment.sla_policy": "时限规则版本",
    "Assignment.calendar_gap_year": "缺少日历的年份",
    "TicketEvent.actor_kind": "操作方类型",
    "TicketEvent.actor": "操作人",
    "TicketEvent.from_state": "原状态",
    "TicketEvent.to_state": "新状态",
    "TicketEvent.reason": "说明",
    "TicketAccessLog.action": "行为",
    "TicketFingerprint.signature": "文本签名",
    "TicketFingerprint.shingle_count": "片段数",
    "TicketBand.key": "分桶键",
    "DuplicateLink.ticket": "后来的工单",
    "DuplicateLink.earlier": "较早的工单",
    "DuplicateLink.kind": "关联方式",
    "DuplicateLink.same_caller": "同一来电人",
    "DuplicateLink.days_apart": "相隔天数",
    "DuplicateLink.created_by": "确认人",
    "DuplicateLink.revoked_at": "撤销时间",
    "DuplicateLink.ticket_created_at": "后来工单受理时间",
    "HotspotAlert.key": "热点标识",
    "HotspotAlert.day": "告警日期",
    "HotspotAlert.label": "热点名称",
    "HotspotAlert.place": "地点",
    "HotspotAlert.current_count": "当前件数",
    "HotspotAlert.baseline_per_day": "日均基线",
    "HotspotAlert.growth": "增长倍数",
    "HotspotAlert.representative": "代表工单",
    "HotspotAlert.ticket_ids": "相关工单",
    "HotspotAlert.acknowledged_by": "确认人",
    "HotspotAlert.acknowledged_at": "确认时间",
    "Rating.channel": "评价渠道",
    "Rating.phone": "评价号码",
    "RatingCallback.status": "回访状态",
    "RatingCallback.rating": "回访所得评价",
    "RatingCallback.note": "回访记录",
    "InboundMessage.channel": "来件渠道",
    "InboundMessage.sid": "来件编号",
    "InboundMessage.dedupe_key": "去重键",
    "InboundMessage.from_number": "来件号码（原样）",
    "InboundMessage.raw": "原始内容",
    "InboundMessage.received_at": "接收时间",
    "InboundMessage.response_status": "应答状态码",
    "InboundMessage.response_body": "应答内容",
    "PhoneLine.opens_at": "开始时间",
    "PhoneLine.closes_at": "结束时间",
    "PhoneLine.seats": "坐席数",
    "Call.call_sid": "通话编号",
    "Call.from_number": "主叫号码（原样）",
    "Call.phone": "来电号码",
    "Call.to_number": "被叫号码",
    "Call.status": "通话状态",
    "Call.duration_seconds": "通话时长（秒）",
    "Call.kind": "来电人选择的诉求类型",
    "Call.speech_result": "语音识别结果",
    "Call.confidence": "识别可信度",
    "Call.recording_url": "录音地址",
    "Call.recording_sid": "录音编号",
    "Call.ended_at": "挂机时间",
    "Call.started_at": "来电时间",
    "Call.status_history": "状态记录",
    "CallbackTask.call": "来电",
    "CallbackTask.phone": "回拨号码",
    "CallbackTask.reason": "未接原因",
    "VerificationCode.code_hash": "验证码摘要",
    "VerificationCode.used_at": "使用时间",
    "VerificationCode.attempts": "输入次数",
    "CitizenSession.key_hash": "凭证摘要",
    "CitizenSession.revoked": "已注销",
    "IdempotencyRecord.scope": "提交方",
    "IdempotencyRecord.key": "幂等键",
    "IdempotencyRecord.request_hash": "请求摘要",
    "IdempotencyRecord.response_status": "应答状态码",
    "IdempotencyRecord.response_body": "应答内容",
    "PartnerKey.key_prefix": "密钥前缀",
    "PartnerKey.key_hash": "密钥摘要",
    "PartnerKey.last_used_at": "最近使用",
    "BackgroundJob.kind": "任务类型",
    "BackgroundJob.message": "说明",
    "KbArticle.version": "当前版本",
    "KbArticleVersion.article": "知识库条目",
    "KbArticleVersion.edited_by": "编辑人",
    "KbArticleVersion.note": "修改说明",
    "KbProposal.article": "知识库条目",
    "KbProposal.unit": "提议单位",
    "KbProposal.proposed_by": "提议人",
    "KbProposal.decided_by": "审定人",
    "KbProposal.decided_at": "审定时间",
    "KbProposal.decision_reason": "审定意见",
    "KbProposal.resulting_version": "生成的版本",
    "LiveOutbox.event": "办理记录",
    "SmsOptOut.phone": "退订号码",
    "SmsOptOut.source": "退订方式",
    "UnitDayStats.day": "日期",
    "UnitMonthStats.month": "月份",
    "Unit.kind": "单位类型",
    "Unit.parent": "上级单位",
    "Unit.aliases": "别称",
    "Category.parent": "上级分类",
    "RoutingRule.jurisdiction": "属地",
    "RoutingRule.lead_unit": "主办单位",
    "RoutingRule.assisting_units": "协办单位",
    "User.role": "岗位",
    "ApiToken.digest": "令牌摘要",
    "ApiToken.prefix": "令牌前缀",
    "ApiToken.credential_hash": "签发时的密码摘要",
    "StaffSession.user_id": "工作人员编号",
    "User.unit": "所属单位",
    "AdminAlert.kind": "告警类型",
    "AdminAlert.key": "告警标识",
    "AdminAlert.title": "标题",
    "AdminAlert.message": "告警内容",
    "AdminAlert.data": "告警数据",
    "CityProfile.name": "城市名称",
    "SlaPolicy.kind": "诉求类型",
    "SlaPolicy.urgency": "紧急程度",
    "CalendarYear.source": "数据来源",
    "CalendarDay.name": "节日名称",
    "Supervision.unit": "被督办单位",
    "Supervision.assignment": "派单记录",
    "NoticeTemplate.level": "督办级别",
}


def _ascii(text: Any) -> bool:
    """A name still in English. A lazy translation (Django's own fields: "session key") is left to
    Django's catalogue, and never evaluated here: the models are still loading."""
    return isinstance(text, str) and all(ord(ch) < 128 for ch in text)


def missing_labels(models: Iterable[type[Any]]) -> list[str]:
    """`Model.field` of every concrete field still named in English (the check tests run)."""
    gaps = []
    for model in models:
        meta = model._meta
        if meta.proxy:
            continue  # another app's fields (see apply_labels)
        if _ascii(meta.verbose_name):
            gaps.append(model.__name__)
        for field in meta.get_fields():
            if getattr(field, "auto_created", False) and not getattr(field, "concrete", False):
                continue  # reverse relations: not a field anyone edits
            if hasattr(field, "verbose_name") and _ascii(field.verbose_name):
                gaps.append(f"{model.__name__}.{field.name}")
    return gaps


def apply_labels(models: Iterable[type[Any]]) -> None:
    """Name every model and field from the tables above, unless its definition named it already.

    Proxy models (django-axes' AccessAttempt shown as LoginLockout) are left alone: their fields
    belong to another app and renaming them there would need a migration in that app; the admin
    names those columns itself.
    """
    for model in models:
        meta = model._meta
        if meta.proxy:
            continue
        name = MODELS.get(model.__name__)
        if name and _ascii(meta.verbose_name):
            # Not written to `original_attrs` (nor a field's `_verbose_name`): the names stay out of
            # migrations, which record schema, and a relabel never needs one.
            meta.verbose_name = meta.verbose_name_plural = name
        for field in meta.local_fields + list(meta.local_many_to_many):
            if not _ascii(field.verbose_name):
                continue
            label = FIELDS.get(f"{model.__name__}.{field.name}") or COMMON.get(field.name)
            if label:
                field.verbose_name = label
