// sarama_session: a Shopify/sarama client session for KafkaTape's end-to-end tests.
//
//	sarama_session BOOTSTRAP TOPIC COUNT
//
// Produces COUNT messages to partition 0 of TOPIC with a SyncProducer, consumes them back with a
// partition consumer from the oldest offset, prints one JSON object:
// {"produced": N, "consumed": [[offset, key, value], ...]}.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/Shopify/sarama"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sarama_session: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: sarama_session BOOTSTRAP TOPIC COUNT")
	}
	bootstrap, topic := os.Args[1], os.Args[2]
	count, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fail("bad COUNT: %v", err)
	}
	config := sarama.NewConfig()
	config.Version = sarama.V2_0_0_0
	config.ClientID = "sarama-e2e"
	config.Producer.Return.Successes = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Metadata.Retry.Backoff = 200 * time.Millisecond
	config.Consumer.Fetch.Default = 1 << 20
	config.Consumer.MaxWaitTime = 200 * time.Millisecond
	client, err := sarama.NewClient([]string{bootstrap}, config)
	if err != nil {
		fail("client: %v", err)
	}
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		fail("producer: %v", err)
	}
	for i := 0; i < count; i++ {
		msg := &sarama.ProducerMessage{Topic: topic, Partition: 0, Key: sarama.StringEncoder(fmt.Sprintf("key-%d", i)),
			Value: sarama.StringEncoder(fmt.Sprintf("value-%d", i))}
		if _, _, err := producer.SendMessage(msg); err != nil {
			fail("produce %d: %v", i, err)
		}
	}
	producer.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		fail("consumer: %v", err)
	}
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		fail("consume: %v", err)
	}
	var consumed [][]interface{}
	timeout := time.After(20 * time.Second)
loop:
	for len(consumed) < count {
		select {
		case m := <-pc.Messages():
			consumed = append(consumed, []interface{}{m.Offset, string(m.Key), string(m.Value)})
		case e := <-pc.Errors():
			fail("consume: %v", e)
		case <-timeout:
			break loop
		}
	}
	pc.Close()
	consumer.Close()
	out, _ := json.Marshal(map[string]interface{}{"produced": count, "consumed": consumed})
	fmt.Println(string(out))
	if len(consumed) != count {
		os.Exit(1)
	}
}
