"""知识库: articles with versions, search, units' proposals, 知识库直接答复."""
