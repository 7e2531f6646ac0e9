// keeps fdb_operator non-empty while its sources arrive
