import Foundation
import KafkaCapture
import KafkaPcap
import Testing
@testable import KafkaTapeTestSupport

/// Real clients (kafka-python and confluent-kafka) against a real broker (Tansu) through the real
/// proxy, while tcpdump and `kafkatape sniff` capture loopback. Then:
/// 1. the proxy's capture, exported, shows tshark every request `dump` lists, with no TCP problem;
/// 2. importing that export gives back the same exchanges, byte for byte;
/// 3. importing tcpdump's capture finds the same requests as tshark in it, and the client side of
///    the proxy carries exactly the proxy capture's requests;
/// 4. the live sniff captured the same requests as tcpdump.
@Suite(.serialized)
struct LiveSessionTests {
    static let enabled =
        Repo.kafkatape != nil && Repo.python != nil && Repo.tshark != nil && Repo.tcpdump != nil && Repo.isRoot
        && FileManager.default.fileExists(atPath: Repo.root + "/tools/kafkatape_testkit.py")

    @Test(
        .enabled(if: enabled, "needs kafkatape, the .venv python (KAFKATAPE_PYTHON), tshark, tcpdump and root"),
        // Generous: tshark, tcpdump, a broker and a client share two cores with the SeaweedFS suites
        // running beside it (it took 5 min once in CI); a hang still fails.
        .timeLimit(.minutes(10)))
    func realClientsThroughTheProxyCapturedFourWays() async throws {
        let kafkatape = try #require(Repo.kafkatape)
        let python = try #require(Repo.python)
        try await withTemporaryDirectory { dir in
            var children: [Daemon] = []
            defer {
                for c in children where c.process.isRunning {
                    kill(c.process.processIdentifier, SIGKILL)
                    c.process.waitUntilExit()
                }
            }
            // The broker.
            let tansu = try TestBroker()
            children.append(tansu.daemon)
            let brokerPort = tansu.port
            let listenPort = Harness.freePort()
            let nodePort = Harness.freePort()
            let ports = [brokerPort, listenPort, nodePort]
            let filter = "tcp and (" + ports.map { "port \($0)" }.joined(separator: " or ") + ")"

            // tcpdump and sniff, both on loopback. A 32 MB kernel buffer (-B) instead of 2 MB: on a loaded
            // machine tcpdump can fall behind, and the kernel then drops packets (a gap in the import that
            // no reassembler can fill). Drops that still happen are told apart from reassembly gaps below.
            // The test process blocks SIGINT/SIGTERM and children inherit the mask; tcpdump only
            // stops on a signal it can receive, so it starts through a wrapper that unblocks them.
            let unblock = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])"
            let tcpdump = try Daemon(
                python, ["-c", unblock, try #require(Repo.tcpdump), "-i", "lo", "--immediate-mode", "-U", "-B", ProcessInfo.processInfo.environment["KAFKATAPE_TEST_TCPDUMP_BUFFER_KB"] ?? "32768", "-Z", "root", "-w", "\(dir)/lo.pcap", filter])
            children.append(tcpdump)
            try await tcpdump.waitUntil(timeout: 15) { $0.stderr.contains("listening on") }
            let sniff = try Daemon(
                kafkatape, ["sniff", "--interface", "lo", "--out", "\(dir)/sniff.ktape"] + ports.flatMap { ["--port", "\($0)"] })
            children.append(sniff)
            try await sniff.waitUntil(timeout: 15) { $0.stderr.contains("sniffing on") }

            // The proxy; Tansu's node id is 111, so node listener 111 gets a port we capture.
            let record = try Daemon(
                kafkatape, [
                    "record", "--listen", "127.0.0.1:\(listenPort)", "--upstream", "127.0.0.1:\(brokerPort)",
                    "--node-port", "111=\(nodePort)", "--out", "\(dir)/proxy.ktape",
                ])
            children.append(record)
            try await record.waitUntil(timeout: 15) { $0.stderr.contains("listening on") }

            let session = try await Harness.runAsync(python, ["\(Repo.fixtures)/sessions.py", "both", "127.0.0.1:\(listenPort)"], timeout: 60)
            #expect(session.status == 0, "client session failed: \(session.stdout) \(session.stderr)")

            record.interrupt()
            #expect(await record.wait() == 0, "record: \(record.stderr)")
            #expect(record.stdout.contains("node 111 -> port \(nodePort)"), "Tansu's node id changed? \(record.stdout)")
            try await Task.sleep(nanoseconds: 300_000_000)
            sniff.interrupt()
            #expect(await sniff.wait() == 0, "sniff: \(sniff.stderr)")
            tcpdump.interrupt()
            await tcpdump.wait()
            tansu.stop()

            let proxyRecords = try readCapture("\(dir)/proxy.ktape")
            let proxyRequests = captureRequests(proxyRecords)
            #expect(proxyRequests.values.reduce(0) { $0 + $1.count } > 20)

            // 1. Export, and tshark's view of it.
            let export = try await Harness.runAsync(kafkatape, ["pcap", "export", "\(dir)/proxy.ktape", "\(dir)/export.pcap"])
            #expect(export.status == 0, "\(export.stderr)")
            #expect(try await tsharkRequests("\(dir)/export.pcap", ports: [listenPort, nodePort]) == proxyRequests)
            #expect(try await tsharkTcpProblems("\(dir)/export.pcap") == [])

            // 2. Import of the export: the same exchanges.
            let back = try await Harness.runAsync(kafkatape, ["pcap", "import", "\(dir)/export.pcap", "\(dir)/back.ktape", "--port", "\(listenPort)", "--port", "\(nodePort)"])
            #expect(back.status == 0, "\(back.stderr)")
            #expect(exchangeFingerprints(try readCapture("\(dir)/back.ktape")) == exchangeFingerprints(proxyRecords))

            // 3. tcpdump's capture: our import against tshark, and against the proxy's own capture.
            // The kernel's own count of packets it dropped for tcpdump (pcap_stats' ps_drop, which tcpdump
            // prints as it exits) and for sniff: a gap with no drop is a reassembler bug; a gap with drops
            // is the capture's loss, and the comparisons that need every byte do not apply.
            let tcpdumpDrops = try #require(Self.count(#"(\d+) packets? dropped by kernel"#, in: tcpdump.stderr), "tcpdump: \(tcpdump.stderr)")
            let sniffDrops = try #require(Self.count(#"kernel: \d+ received, (\d+) dropped"#, in: sniff.stdout), "sniff: \(sniff.stdout)")
            let lo = try await Harness.runAsync(kafkatape, ["pcap", "import", "\(dir)/lo.pcap", "\(dir)/lo.ktape"] + ports.flatMap { ["--port", "\($0)"] })
            #expect(lo.status == 0, "\(lo.stderr)")
            let loGaps = try #require(Self.count(#"gaps: (\d+)"#, in: lo.stdout), "\(lo.stdout)")
            print("LiveSessionTests: kernel drops: tcpdump \(tcpdumpDrops), sniff \(sniffDrops); loopback import gaps: \(loGaps)")
            #expect(loGaps == 0 || tcpdumpDrops > 0, "gaps without a kernel drop: the reassembler lost data: \(lo.stdout)")
            let loRequests = captureRequests(try readCapture("\(dir)/lo.ktape"))
            if tcpdumpDrops == 0 {
                #expect(loRequests == (try await tsharkRequests("\(dir)/lo.pcap", ports: ports)))
                for (clientPort, requests) in proxyRequests {
                    #expect(loRequests[clientPort] == requests, "client port \(clientPort): tcpdump import differs from the proxy capture")
                }
            } else {
                print("LiveSessionTests: the kernel dropped \(tcpdumpDrops) packets for tcpdump (gaps: \(loGaps)); complete-capture comparisons skipped")
            }

            // 4. The live sniff saw what tcpdump saw.
            #expect(sniff.stdout.contains("connections:"))
            if tcpdumpDrops == 0 && sniffDrops == 0 {
                #expect(captureRequests(try readCapture("\(dir)/sniff.ktape")) == loRequests)
            } else {
                print("LiveSessionTests: kernel drops: tcpdump \(tcpdumpDrops), sniff \(sniffDrops); sniff/tcpdump comparison skipped")
            }
        }
    }

    /// The first capture group of `pattern` in `text`, as a number.
    static func count(_ pattern: String, in text: String) -> Int? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let m = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), m.numberOfRanges > 1,
            let r = Range(m.range(at: 1), in: text)
        else { return nil }
        return Int(text[r])
    }
}
