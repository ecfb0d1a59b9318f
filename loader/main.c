// SPDX-License-Identifier: GPL-2.0
/* main.c - lvip: hide loopback VIPs from ARP and NDP with XDP and TC. */
#include "cmd.h"

int main(int argc, char **argv)
{
	return cmd_main(argc, argv);
}
