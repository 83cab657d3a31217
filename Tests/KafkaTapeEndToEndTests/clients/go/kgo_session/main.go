// kgo_session: a segmentio/kafka-go client session for KafkaTape's end-to-end tests. kafka-go computes
// Produce TimeoutMs and Fetch MaxWaitMs from the connection's deadlines minus the time elapsed, so
// two runs never send them alike (the case serve's matching must tolerate).
//
//	kgo_session BOOTSTRAP TOPIC COUNT
//
// Writes COUNT messages to partition 0 of TOPIC, reads them back, prints one JSON object:
// {"produced": N, "consumed": [[offset, key, value], ...]}.
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

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kgo_session: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: kgo_session BOOTSTRAP TOPIC COUNT")
	}
	bootstrap, topic := os.Args[1], os.Args[2]
	count, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fail("bad COUNT: %v", err)
	}
	conn, err := kafka.DialLeader(context.Background(), "tcp", bootstrap, topic, 0)
	if err != nil {
		fail("dial leader: %v", err)
	}
	defer conn.Close()
	msgs := make([]kafka.Message, count)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprintf("key-%d", i)), Value: []byte(fmt.Sprintf("value-%d", i))}
	}
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.WriteMessages(msgs...); err != nil {
		fail("write: %v", err)
	}
	if _, err := conn.Seek(0, kafka.SeekAbsolute); err != nil {
		fail("seek: %v", err)
	}
	var consumed [][]interface{}
	deadline := time.Now().Add(15 * time.Second)
	for len(consumed) < count && time.Now().Before(deadline) {
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		batch := conn.ReadBatch(1, 1<<20)
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			consumed = append(consumed, []interface{}{m.Offset, string(m.Key), string(m.Value)})
		}
		batch.Close()
	}
	out, _ := json.Marshal(map[string]interface{}{"produced": count, "consumed": consumed})
	fmt.Println(string(out))
	if len(consumed) != count {
		os.Exit(1)
	}
}
