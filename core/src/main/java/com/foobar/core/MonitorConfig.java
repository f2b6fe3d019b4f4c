package com.foobar.core;

import java.util.List;

/**
 * Role {@code monitor}. The role itself is not built yet; its section is validated like every
 * other.
 *
 * @param listen dashboard, APIs and the monitor's own {@code /metrics}
 * @param allow CIDRs admitted
 * @param deny CIDRs refused (deny wins)
 */
public record MonitorConfig(HostPort listen, List<Cidr> allow, List<Cidr> deny) {}
