"""The fixtures in use: a kafka-python session served from the bundled clean Schema Registry capture,
and a session recorded through the proxy in front of a live Tansu broker, then served again."""
import json
import pathlib
import subprocess
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

ROOT = pathlib.Path(__file__).resolve().parents[2]
SESSION = ROOT / "Tests/KafkaTapeEndToEndTests/clients/fault_session.py"
CLEAN = ROOT / "captures/schema-registry-clean"
sys.path.insert(0, str(ROOT / "tools"))
import kafkatape_testkit  # noqa: E402


def run_schema_registry_session(bootstrap):
    out = subprocess.run([sys.executable, str(SESSION), "schemas", bootstrap, "_schemas"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return json.loads(out)


def test_served_capture_answers_the_recorded_client(kafkatape_serve):
    bootstrap = kafkatape_serve(CLEAN / "session.ktape")
    got = run_schema_registry_session(bootstrap)
    assert got == json.loads((CLEAN / "client-output.json").read_text())


def produce_and_read(bootstrap, topic):
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for i in range(3):
        producer.send(topic, value=f"v{i}".encode(), partition=0).get(timeout=10)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=5000)
    consumer.assign([TopicPartition(topic, 0)])
    consumer.seek(TopicPartition(topic, 0), 0)
    values = [m.value.decode() for _, m in zip(range(3), consumer)]
    consumer.close()
    return values


def test_recorded_session_serves_again(kafkatape_record, kafkatape_serve, tmp_path):
    capture = tmp_path / "live.ktape"
    with kafkatape_testkit.Tansu() as broker:
        recording = kafkatape_record(broker.bootstrap, capture)
        live = produce_and_read(recording.bootstrap, "fixture")
        recording.stop()
    assert live == ["v0", "v1", "v2"]
    # The broker is gone; the capture answers the same client the same way.
    assert produce_and_read(kafkatape_serve(capture), "fixture") == live
