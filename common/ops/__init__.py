"""Operations: the page operators look at (/dashboard), its login, queries, chart, templates and assets."""
