"""The committed protobuf code is what `make proto` generates from proto/memlane.proto."""
from pathlib import Path

from grpc_tools import protoc

from memlane.proto import memlane_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_matches_the_proto_file(tmp_path):
    status = protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"--python_out={tmp_path}",
                          f"--pyi_out={tmp_path}", str(ROOT / "proto" / "memlane.proto")])
    assert status == 0
    for name in ("memlane_pb2.py", "memlane_pb2.pyi"):
        committed = (ROOT / "src" / "memlane" / "proto" / name).read_text()
        assert (tmp_path / name).read_text() == committed, f"{name} is stale: run make proto"


def test_the_package_name_carries_the_protocol_version():
    assert pb.DESCRIPTOR.package == "memlane.v1"
    message = pb.ClientMessage(request_id="r", question=pb.Question(text="hi"))
    again = pb.ClientMessage.FromString(message.SerializeToString())
    assert again.WhichOneof("body") == "question" and again.question.text == "hi"
