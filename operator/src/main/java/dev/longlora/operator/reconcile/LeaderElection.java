package dev.longlora.operator.reconcile;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;

/**
 * One active operator replica at a time: the others wait on a Lease (active in the prod profile, see
 * quarkus.operator-sdk.activate-leader-election-for-profiles, unless longlora.operator.leader-election.enabled is
 * false).
 */
public class LeaderElection {

    /** Null (no leader election) when disabled: the operator SDK then starts reconciling at once. */
    @Produces
    @Dependent
    LeaderElectionConfiguration leaderElection(OperatorConfig config) {
        OperatorConfig.LeaderElection le = config.operator().leaderElection();
        if (!le.enabled()) {
            return null;
        }
        return le.namespace()
                .map(ns -> new LeaderElectionConfiguration(le.leaseName(), ns))
                .orElseGet(() -> new LeaderElectionConfiguration(le.leaseName()));
    }
}
