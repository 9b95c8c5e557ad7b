"""评价反馈: ratings, the rating request and its SMS, 回访 callbacks, 不满意 review."""
