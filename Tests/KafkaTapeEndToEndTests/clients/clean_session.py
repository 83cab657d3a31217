#!/usr/bin/env python3
"""A clean produce/consume-with-a-group session for `check`: clean_session.py LIBRARY BOOTSTRAP TOPIC
LIBRARY is kafka-python, librdkafka or aiokafka. Prints {"consumed": N}."""
import asyncio
import json
import sys

lib, bootstrap, topic = sys.argv[1:4]
N = 10


def kafka_python():
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    p = KafkaProducer(bootstrap_servers=bootstrap)
    for i in range(N):
        p.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
    p.flush()
    p.close()
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id="clean", auto_offset_reset="earliest",
                      enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=1000, consumer_timeout_ms=10000)
    got = 0
    for _ in c:
        got += 1
        if got == N:
            break
    c.commit()
    c.close()
    return got


def librdkafka():
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result(15)
    p = Producer({"bootstrap.servers": bootstrap})
    for i in range(N):
        p.produce(topic, key=f"k{i}", value=f"v{i}")
    p.flush(15)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "clean", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "session.timeout.ms": 6000})
    c.subscribe([topic])
    got = 0
    import time
    deadline = time.time() + 20
    while got < N and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got += 1
    c.commit(asynchronous=False)
    c.close()
    return got


async def aiokafka_session():
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    await admin.close()
    p = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await p.start()
    for i in range(N):
        await p.send_and_wait(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
    await p.stop()
    c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id="clean", auto_offset_reset="earliest",
                         enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=1000)
    await c.start()
    got = 0
    try:
        while got < N:
            batch = await asyncio.wait_for(c.getmany(timeout_ms=500), 20)
            for msgs in batch.values():
                got += len(msgs)
        await c.commit()
    finally:
        await c.stop()
    return got


if lib == "kafka-python":
    n = kafka_python()
elif lib == "librdkafka":
    n = librdkafka()
else:
    n = asyncio.run(aiokafka_session())
print(json.dumps({"consumed": n}))
