"""Operations: liveness and readiness, request ids, CORS."""
import re


def test_live_and_ready(client):
    assert client.get("/api/health/live").json() == {"status": "alive"}
    assert client.get("/api/health/ready").json() == {"status": "ready"}
    engine = client.app.state.engine
    started, engine.started_at = engine.started_at, None  # as before start-up finished
    try:
        r = client.get("/api/health/ready")
        assert r.status_code == 503 and r.json()["status"] == "not ready"
        assert r.json()["database"]["reachable"] is True
    finally:
        engine.started_at = started


def test_request_ids_are_returned_kept_or_made(client):
    made = client.get("/api/health/live").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/api/health/live").headers["x-request-id"] != made
    kept = client.get("/api/memories/nope", headers={"X-Request-ID": "trace-42.a"})
    assert kept.status_code == 404 and kept.headers["x-request-id"] == "trace-42.a"
    odd = client.get("/api/health/live", headers={"X-Request-ID": "x" * 300})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["x-request-id"])


def test_request_id_reaches_log_lines(caplog):
    import logging

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from memlane.api.requests import RequestId, RequestIdFilter

    def handler(request):
        logging.getLogger("memlane.test").warning("inside")
        return PlainTextResponse("ok")

    caplog.handler.addFilter(RequestIdFilter())
    app = RequestId(Starlette(routes=[Route("/", handler)]))
    with caplog.at_level(logging.INFO), TestClient(app) as client:
        client.get("/", headers={"X-Request-ID": "rid-7"})
        client.get("/")
        logging.getLogger("memlane.test").warning("outside")
    ids = [r.request_id for r in caplog.records if r.name == "memlane.test"]
    assert ids[0] == "rid-7" and re.fullmatch(r"[0-9a-f]{32}", ids[1]) and ids[2] == "-"


def test_cors_only_when_configured(make_client):
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    plain = make_client()
    assert "access-control-allow-origin" not in plain.options("/api/search",
                                                             headers=preflight).headers
    open_ = make_client(cors_origins=["https://app.example"])
    r = open_.options("/api/search", headers=preflight)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.example"


def test_one_key_past_the_limit_gets_429_and_another_key_does_not(make_client):
    from support import add_user
    client = make_client(auth_enabled=True)  # the default: 100 requests a minute per key
    alice, bob = add_user(client, "alice"), add_user(client, "bob")
    answered = 0
    while (r := client.get("/api/memories", headers=alice)).status_code == 200:
        answered += 1
        assert answered < 150, "never limited"
    assert 100 <= answered < 110  # 100, plus what refilled meanwhile (100 a minute)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 60 and r.headers["x-request-id"]
    assert client.get("/api/memories", headers=bob).status_code == 200
    assert client.get("/api/health/ready").status_code == 200  # health is never limited


def test_rate_limits_on_v1_are_openai_shaped_and_sockets_close_1013(make_client):
    from starlette.websockets import WebSocketDisconnect

    from support import add_user
    client = make_client(auth_enabled=True, rate_limit_per_minute=2)
    alice = add_user(client, "alice")
    assert client.get("/v1/models", headers=alice).status_code == 200
    assert client.get("/v1/models", headers=alice).status_code == 200
    r = client.get("/v1/models", headers=alice)
    assert r.status_code == 429 and 28 <= int(r.headers["retry-after"]) <= 30
    assert r.json()["error"]["type"] == "rate_limit_error"
    assert r.json()["error"]["code"] == "rate_limit_exceeded"
    try:
        with client.websocket_connect("/ws/ask", headers=alice) as ws:
            ws.receive_bytes()
        raise AssertionError("the socket was accepted")
    except WebSocketDisconnect as closed:
        assert closed.code == 1013


def test_socket_work_spends_the_keys_requests_and_the_socket_survives(make_client):
    from memlane.proto import memlane_pb2 as pb
    from support import add_user
    client = make_client(auth_enabled=True, rate_limit_per_minute=3)
    alice = add_user(client, "alice")
    question = pb.ClientMessage(question=pb.Question(text="hi")).SerializeToString()
    with client.websocket_connect("/ws/ask", headers=alice) as ws:  # the handshake: one
        ws.receive_bytes()  # ready
        kinds = []
        for _ in range(3):
            ws.send_bytes(question)
            while True:
                reply = pb.ServerMessage.FromString(ws.receive_bytes())
                if reply.WhichOneof("body") in ("done", "error"):
                    kinds.append(reply.WhichOneof("body"))
                    break
        assert kinds == ["done", "done", "error"]
        assert reply.error.status == 429 and "retry in" in reply.error.message
        ws.send_bytes(b"not protobuf")  # still open, still answering
        assert pb.ServerMessage.FromString(ws.receive_bytes()).error.status == 400
    assert client.get("/api/memories", headers=alice).status_code == 429  # one bucket


def _scrape(client) -> dict:
    from prometheus_client.parser import text_string_to_metric_families
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def test_metrics_parse_and_move_with_requests(client):
    before = _scrape(client)
    for text in ("Tea at five.", "Coffee at nine."):
        assert client.post("/api/memories", json={"text": text}).status_code == 201
    client.get("/api/memories/nope")
    after = _scrape(client)
    created = ("memlane_requests_total",
               (("method", "POST"), ("route", "/api/memories"), ("status", "201")))
    missing = ("memlane_requests_total",
               (("method", "GET"), ("route", "/api/memories/{memory_id}"), ("status", "404")))
    assert after[created] - before.get(created, 0) == 2
    assert after[missing] - before.get(missing, 0) == 1
    assert after[("memlane_memories", ())] == before[("memlane_memories", ())] + 2
    embed = ("memlane_model_calls_total", (("model", "embedder"),))
    assert after[embed] > before.get(embed, 0)
    assert after[("memlane_model_seconds_total", (("model", "embedder"),))] > 0
    assert ("memlane_jobs", (("status", "queued"),)) in after
    count = ("memlane_request_seconds_count", (("method", "POST"), ("route", "/api/memories")))
    assert after[count] - before.get(count, 0) == 2


def test_llm_generations_show_in_metrics(client):
    def llm_figures():
        scraped = _scrape(client)
        return {name: scraped.get((name, labels), 0) for name, labels in (
            ("memlane_llm_generations_total", ()), ("memlane_llm_seconds_total", ()),
            ("memlane_llm_first_token_seconds_total", ()),
            ("memlane_llm_tokens_total", (("kind", "prompt"),)),
            ("memlane_llm_tokens_total", (("kind", "completion"),)))}
    before = llm_figures()
    assert client.post("/api/chat", json={"message": "Hello there", "stream": False},
                       ).status_code == 200
    client.post("/v1/chat/completions", json={"model": "memlane", "messages": [
        {"role": "user", "content": "Hi again"}]})
    after = llm_figures()
    assert after["memlane_llm_generations_total"] - before["memlane_llm_generations_total"] >= 2
    for name in after:
        assert after[name] > before[name], name


def test_logs_are_json_lines_on_stderr_and_in_a_rotating_file(tmp_path, capsys):
    import json
    import logging
    import logging.handlers

    from memlane.api.requests import current
    from memlane.logs import configure_logging
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("info", tmp_path / "logs")
        token = current.set("rid-9")
        logging.getLogger("memlane.test").info("stored %d memories", 3)
        current.reset(token)
        logging.getLogger("memlane.test").debug("not at info")
        for handler in root.handlers:
            handler.flush()
        written = (tmp_path / "logs" / "memlane.log").read_text().splitlines()
        line = json.loads(written[-1])
        assert line["message"] == "stored 3 memories" and line["request_id"] == "rid-9"
        assert line["level"] == "info" and line["logger"] == "memlane.test"
        assert line["time"].endswith("Z") and len(written) == 1
        assert json.loads(capsys.readouterr().err.splitlines()[-1]) == line
        assert isinstance(root.handlers[1], logging.handlers.RotatingFileHandler)
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_info_logs_carry_no_secrets_and_no_memory_text(make_client, caplog):
    import logging

    from support import add_user, run_jobs
    client = make_client(auth_enabled=True)
    headers = add_user(client, "alice")
    key = headers["Authorization"].split()[1]
    secret = "my bank PIN is 8264"
    with caplog.at_level(logging.INFO):
        client.post("/api/memories", json={"text": secret}, headers=headers)
        client.get("/api/entities", params={"query": secret}, headers=headers)
        client.post("/api/search", json={"query": secret}, headers=headers)
        client.post("/api/chat", json={"message": secret}, headers=headers)
        tokens = client.post("/api/auth/token", json={"api_key": key}).json()
        client.get("/api/memories", headers={"Authorization": "Bearer wrong-" + secret})
        run_jobs(client)
    logged = "\n".join(r.getMessage() + str(r.exc_text or "") for r in caplog.records
                       if not r.name.startswith("httpx"))  # the test's own client
    assert "POST /api/memories 201" in logged  # requests are logged, by route template
    for leak in (secret, "8264", key, tokens["access_token"], tokens["refresh_token"]):
        assert leak not in logged
