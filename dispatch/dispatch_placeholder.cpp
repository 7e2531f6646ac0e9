// replaced by the dispatch sources
