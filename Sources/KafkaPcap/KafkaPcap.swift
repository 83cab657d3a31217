// pcap import/export, TCP reassembly and live sniffing (see issue: pcap).
