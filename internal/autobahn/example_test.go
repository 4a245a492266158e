package autobahn_test

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/rtd-project/rtd/internal/autobahn"
)

// A server under test is graded case by case; Overall folds a case's two
// verdicts into one.
func ExampleRun() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() { // a "server" that refuses every handshake
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
			c.Close()
		}
	}()
	rs, err := autobahn.Run(context.Background(),
		autobahn.Target{Addr: ln.Addr().String(), Path: "/echo"},
		autobahn.Options{Cases: "1.1.1"})
	if err != nil {
		panic(err)
	}
	fmt.Println(rs[0].ID, rs[0].Overall())
	// Output: 1.1.1 FAILED
}

func ExampleCaseIDs() {
	fmt.Println(autobahn.CaseIDs(autobahn.Options{Cases: "5.19,5.20,X.*"}))
	fmt.Println(len(autobahn.CaseIDs(autobahn.Options{})), len(autobahn.CaseIDs(autobahn.Options{Compression: true})))
	// Output:
	// [5.19 5.20 X.1]
	// 302 518
}

func ExampleSummarize() {
	rs := []autobahn.Result{
		{ID: "1.1.1", Behavior: autobahn.OK, BehaviorClose: autobahn.OK},
		{ID: "6.4.1", Behavior: autobahn.NonStrict, BehaviorClose: autobahn.OK},
		{ID: "7.7.1", Behavior: autobahn.OK, BehaviorClose: autobahn.WrongCode},
		{ID: "2.5", Behavior: autobahn.Failed, BehaviorClose: autobahn.OK},
	}
	fmt.Println(autobahn.Summarize(rs))
	// Output: 1 2 0 1 0
}

func ExampleReport() {
	autobahn.Report(os.Stdout, []autobahn.Result{{ID: "X.1", Behavior: autobahn.OK, BehaviorClose: autobahn.OK, Detail: "fine"}})
	// Output:
	// case  behavior  close  ms  detail
	// X.1   OK        OK     0   fine
	// 1 cases: 1 OK, 0 NON-STRICT, 0 INFORMATIONAL, 0 FAILED, 0 UNIMPLEMENTED
}
