#!/usr/bin/env python3
"""A short real client session for the demo: create a topic, produce, consume from offset 0 with a
consumer group, commit. Usage: demo_session.py BOOTSTRAP TOPIC"""
import sys

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafkatape-demo-admin")
admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
admin.close()

producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="kafkatape-demo-producer")
for i in range(10):
    producer.send(topic, key=f"key-{i}".encode(), value=f"value-{i}".encode(), headers=[("n", str(i).encode())])
producer.flush()
producer.close()

consumer = KafkaConsumer(
    topic, bootstrap_servers=bootstrap, group_id="kafkatape-demo", client_id="kafkatape-demo-consumer",
    auto_offset_reset="earliest", enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=1000,
    consumer_timeout_ms=8000)
seen = []
for message in consumer:
    seen.append((message.offset, message.key.decode(), message.value.decode()))
    if len(seen) == 10:
        break
consumer.commit()
consumer.close()
print(f"demo client: produced 10 records, consumed {len(seen)}: first {seen[0] if seen else None}, last {seen[-1] if seen else None}")
sys.exit(0 if len(seen) == 10 else 1)
