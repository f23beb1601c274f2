"""Analytics (SPEC G): every chat turn, answer and search becomes a record of its phase
timings, retrieval strategy hits and token usage, written in batches (`recorder`), kept
for a while (`retention`) and summarised for `GET /api/analytics` (`summary`). Nothing
leaves the machine."""
