// kafkago_session: a segmentio/kafka-go client session for KafkaTape's end-to-end tests.
//
//	kafkago_session BOOTSTRAP TOPIC COUNT
//
// Writes COUNT messages to partition 0 of TOPIC with a Writer (Debian's kafka-go: Produce v2 with
// magic-1 message sets; the messages go out as one set), then reads partition 0 from offset 0 with a
// Reader, and prints one JSON object:
// {"produced": N, "consumed": [[offset, key, value], ...], "error": "..."}; exit 1 on an error.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	kafka "github.com/segmentio/kafka-go"
)

// firstPartition sends every message to the lowest partition, so the messages go out as one set.
type firstPartition struct{}

func (firstPartition) Balance(msg kafka.Message, partitions ...int) int {
	lowest := partitions[0]
	for _, p := range partitions {
		if p < lowest {
			lowest = p
		}
	}
	return lowest
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: kafkago_session BOOTSTRAP TOPIC COUNT")
		os.Exit(2)
	}
	bootstrap, topic := os.Args[1], os.Args[2]
	count, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad COUNT:", err)
		os.Exit(2)
	}
	out := map[string]interface{}{"produced": 0, "consumed": [][]interface{}{}}
	finish := func(err error) {
		if err != nil {
			out["error"] = err.Error()
		}
		b, _ := json.Marshal(out)
		fmt.Println(string(b))
		if err != nil {
			os.Exit(1)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := kafka.NewWriter(kafka.WriterConfig{Brokers: []string{bootstrap}, Topic: topic, Balancer: firstPartition{}, BatchTimeout: 10 * time.Millisecond})
	var msgs []kafka.Message
	for i := 0; i < count; i++ {
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("key-%d", i)), Value: []byte(fmt.Sprintf("value-%d", i))})
	}
	err = w.WriteMessages(ctx, msgs...)
	w.Close()
	if err != nil {
		finish(fmt.Errorf("write: %v", err))
	}
	out["produced"] = count
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{bootstrap}, Topic: topic, Partition: 0, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	r.SetOffset(0)
	var consumed [][]interface{}
	for len(consumed) < count {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			out["consumed"] = consumed
			finish(fmt.Errorf("read: %v", err))
		}
		consumed = append(consumed, []interface{}{m.Offset, string(m.Key), string(m.Value)})
	}
	out["consumed"] = consumed
	finish(nil)
}
