// keeps fdb_watch non-empty while its sources arrive
