package junit_test

import (
	"fmt"
	"os"
	"time"

	"bgwmodel/internal/junit"
)

// A bgw stress campaign reported with one test case per check.
func ExampleReport_Encode() {
	r := junit.Report{
		Name: "bgw stress",
		Suites: []junit.Suite{{
			Name:       "bgw stress",
			Package:    "bgw",
			Hostname:   "ci-7",
			Timestamp:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Time:       25 * time.Second,
			Properties: []junit.Property{{Name: "seed", Value: "42"}},
			Cases: []junit.Case{
				{Name: "linearizability", Classname: "bgw.stress", Time: 3 * time.Second, Outcome: junit.Passed},
				{Name: "policy", Classname: "bgw.stress", Outcome: junit.Failed, Type: "violation",
					Message: "slot 3 started twice", Detail: "record 17 & record 18"},
				{Name: "coverage", Classname: "bgw.stress", Outcome: junit.Skipped, Message: "waived"},
			},
			SystemOut: "repro: bgw stress -seed 42",
		}},
	}
	if err := r.Encode(os.Stdout); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("%+v\n", r.Counts())
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <testsuites name="bgw stress" tests="3" failures="1" errors="0" time="25.000">
	//   <testsuite name="bgw stress" tests="3" failures="1" errors="0" skipped="1" time="25.000" timestamp="2026-01-02T03:04:05" hostname="ci-7" id="0" package="bgw">
	//     <properties>
	//       <property name="seed" value="42"></property>
	//     </properties>
	//     <testcase name="linearizability" classname="bgw.stress" time="3.000"></testcase>
	//     <testcase name="policy" classname="bgw.stress" time="0.000">
	//       <failure type="violation" message="slot 3 started twice">record 17 &amp; record 18</failure>
	//     </testcase>
	//     <testcase name="coverage" classname="bgw.stress" time="0.000">
	//       <skipped type="skipped" message="waived"></skipped>
	//     </testcase>
	//     <system-out>repro: bgw stress -seed 42</system-out>
	//     <system-err></system-err>
	//   </testsuite>
	// </testsuites>
	// {Tests:3 Failures:1 Errors:0 Skipped:1}
}
