package dev.longlora.operator.reconcile;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * One active operator replica at a time: the others wait on a Lease in the operator's namespace (active in the prod
 * profile, see quarkus.operator-sdk.activate-leader-election-for-profiles).
 */
public class LeaderElection {
  public static final String LEASE = "longlora-operator-leader";

  @Produces
  @Singleton
  LeaderElectionConfiguration leaderElection() {
    return new LeaderElectionConfiguration(LEASE);
  }
}
