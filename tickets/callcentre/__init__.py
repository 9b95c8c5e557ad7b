"""呼叫中心: queues per desk (专席), operator seats and their states, the fair assignment of a
waiting caller to an operator, 来电弹屏 on the bridge, call recordings, service levels (GB/T 33358)."""
