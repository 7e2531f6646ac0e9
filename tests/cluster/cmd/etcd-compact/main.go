// Command etcd-compact compacts an etcd store at its current revision, so that a watch
// resumed from an older resourceVersion gets 410 Gone (the cluster scenario "410 after an
// etcd compaction"). It prints the revision it compacted at.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:2379", "etcd client URL")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		log.Fatalf("etcd-compact: %v", err)
	}
	defer cli.Close()
	resp, err := cli.Get(ctx, "compact-probe")
	if err != nil {
		log.Fatalf("etcd-compact: reading the revision: %v", err)
	}
	rev := resp.Header.Revision
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		log.Fatalf("etcd-compact: compacting at %d: %v", rev, err)
	}
	fmt.Println(rev)
}
