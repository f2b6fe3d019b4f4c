package com.foobar.core;

import java.util.List;

/**
 * An allow/deny pair for one listener. Deny wins; an empty allow list admits nobody.
 *
 * @param allow CIDRs admitted
 * @param deny CIDRs refused even when allowed
 */
public record AccessConfig(List<Cidr> allow, List<Cidr> deny) {}
