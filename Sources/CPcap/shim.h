#ifndef KAFKATAPE_CPCAP_SHIM_H
#define KAFKATAPE_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
