// Package junit writes JUnit XML reports, the test-result format that CI
// systems (Jenkins, GitLab, GitHub Actions reporters, Buildkite, ...) read,
// so that each check of a bgw run shows up as one test case.
//
// # Shape
//
// A [Report] is a <testsuites> element holding one <testsuite> per [Suite],
// each holding one <testcase> per [Case]. A case passes, or has one
// <failure>, <error> or <skipped> child, as its [Outcome] says:
//
//	<testsuites name="bgw stress" tests="3" failures="1" errors="0" time="25.000">
//	  <testsuite name="bgw stress" tests="3" failures="1" errors="0" skipped="0"
//	             time="25.000" timestamp="2026-01-02T03:04:05" hostname="ci-7"
//	             id="0" package="bgw">
//	    <properties><property name="seed" value="42"/></properties>
//	    <testcase name="linearizability" classname="bgw.stress" time="3.100"/>
//	    <testcase name="policy" classname="bgw.stress" time="0.200">
//	      <failure type="violation" message="...">details</failure>
//	    </testcase>
//	    ...
//	    <system-out>repro: bgw stress -seed 42</system-out>
//	    <system-err></system-err>
//	  </testsuite>
//	</testsuites>
//
// # Schema
//
// The output is valid against both published schemas that JUnit readers
// follow:
//
//   - Jenkins' junit-10.xsd (jenkinsci/xunit-plugin,
//     src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd):
//     <testsuite> requires name, tests, failures and errors; <testcase>
//     requires name; <testsuites> may carry name, time, tests, failures and
//     errors, and nothing else (so the skipped count is on <testsuite> only).
//   - The Apache Ant schema, JUnit.xsd (windyroad/JUnit-Schema), the
//     stricter one: <testsuite> requires name, timestamp (no time zone),
//     hostname, tests, failures, errors and time, and the children
//     <properties>, then the <testcase>s, then <system-out> and <system-err>,
//     in that order; inside <testsuites> it also requires package and id;
//     <testcase> requires name, classname and time, and holds at most one of
//     <skipped>, <error> or <failure>, whose type attribute is required.
//     Ant's schema declares no attributes on <testsuites>; every reader
//     ignores them, and Jenkins' schema declares them, so they are written.
//
// Times are seconds with three decimals, which both schemas' time types
// accept. Text is escaped, and characters that XML 1.0 cannot hold (the
// ANSI escapes of a terminal log, say) are replaced by U+FFFD, so any
// output or message can be put in a report.
//
// # Writing
//
// [Report.Validate] says what is wrong with a report before anything is
// written: an empty name, a missing timestamp, an unknown outcome, a
// negative time. [Report.Encode] writes the document to a writer, and
// [WriteFile] writes it to a file atomically, so that a CI system never
// reads half a report. [Report.Counts] and [Suite.Counts] give the totals
// the attributes carry.
package junit
