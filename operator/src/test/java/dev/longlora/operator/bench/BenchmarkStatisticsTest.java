package dev.longlora.operator.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The benchmark's arithmetic and metric parsing: wrong here means wrong numbers in docs/benchmarks-operator.md. */
class BenchmarkStatisticsTest {

    @Test
    void percentilesUseNearestRank() {
        List<Double> oneToHundred =
                IntStream.rangeClosed(1, 100).mapToObj(i -> (double) i).toList();
        Percentiles p = Percentiles.of(oneToHundred.reversed());
        assertEquals(100, p.count());
        assertEquals(50, p.p50());
        assertEquals(90, p.p90());
        assertEquals(99, p.p99());
        assertEquals(100, p.max());
        Percentiles small = Percentiles.of(List.of(30.0, 10.0, 20.0));
        assertEquals(20, small.p50());
        assertEquals(30, small.p99());
        assertTrue(Double.isNaN(Percentiles.of(List.of()).p50()));
    }

    @Test
    void apiServerRequestsAreSummedByVerbAndResourceWithoutWatches() {
        String before = """
        # HELP apiserver_request_total Counter of apiserver requests
        apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 3
        apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="WATCH",version="v1"} 7
        """;
        String after = """
        apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 5
        apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 1
        apiserver_request_total{code="200",component="apiserver",dry_run="",group="longlora.dev",resource="longlorajobs",scope="resource",subresource="status",verb="PUT",version="v1alpha1"} 4
        apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="WATCH",version="v1"} 9
        apiserver_request_total{code="200",component="",dry_run="",group="",resource="",scope="",subresource="/healthz",verb="GET",version=""} 2
        """;
        Map<String, Double> delta =
                ApiServerRequests.delta(ApiServerRequests.parse(before), ApiServerRequests.parse(after));
        assertEquals(Map.of("POST pods", 3.0, "PUT longlorajobs/status", 4.0), delta);
    }

    @Test
    void reconcileCountersComeFromTheOperatorTimer() {
        String metrics = """
        # TYPE longlora_reconcile_seconds summary
        longlora_reconcile_seconds_count 12.0
        longlora_reconcile_seconds_sum 3.5
        longlora_reconcile_seconds_max 0.9
        """;
        assertArrayEquals(new double[] {12.0, 3.5}, OperatorBenchmark.reconcileCounters(metrics));
        assertTrue(Double.isNaN(OperatorBenchmark.reconcileCounters("")[0]));
    }
}
