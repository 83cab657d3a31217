package kafkatape

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/Shopify/sarama"
)

// capture is captures/sarama-produce-consume/session.ktape in this repository, recorded by this very
// test with KAFKATAPE_MODE=record (tools/record-captures does that against Tansu).
func capture() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "../../../captures/sarama-produce-consume/session.ktape")
}

// A sarama producer and consumer, as the application under test would run them.
func produceAndConsume(t *testing.T, bootstrap string) []string {
	config := sarama.NewConfig()
	config.Version = sarama.V2_0_0_0
	config.ClientID = "kafkatape-go-example"
	config.Producer.Return.Successes = true
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Consumer.MaxWaitTime = 200 * time.Millisecond
	client, err := sarama.NewClient([]string{bootstrap}, config)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "orders", Partition: 0, Value: sarama.StringEncoder(fmt.Sprintf("order-%d", i))}); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	producer.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition("orders", 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	defer pc.Close()
	var got []string
	for len(got) < 3 {
		select {
		case m := <-pc.Messages():
			got = append(got, string(m.Value))
		case <-time.After(10 * time.Second):
			t.Fatalf("consumed only %v", got)
		}
	}
	return got
}

func TestOrdersAgainstTheCassette(t *testing.T) {
	got := produceAndConsume(t, Cassette(t, capture()))
	want := []string{"order-0", "order-1", "order-2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("consumed %v, want %v", got, want)
	}
}
