package dsqlruntime.testsupport;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.mapper.MapperExtrasPlugin;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.Netty4Plugin;

/**
 * A single-node Elasticsearch cluster in this JVM, on 127.0.0.1, for tests.
 *
 * <p>Usage: {@code TestElasticsearchNode HOME HTTP_PORT TRANSPORT_PORT}. Data lives under HOME, so a node
 * started again on the same HOME finds its indices. Prints {@code started} once it serves HTTP and
 * closes cleanly on SIGTERM.
 */
public final class TestElasticsearchNode extends Node {
    private static final List<Class<? extends Plugin>> MODULES = List.of(
            Netty4Plugin.class,
            MapperExtrasPlugin.class);

    private TestElasticsearchNode(Settings settings) {
        super(
                InternalSettingsPreparer.prepareEnvironment(
                        settings, Collections.emptyMap(), null, () -> "test-node"),
                MODULES,
                true);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: TestElasticsearchNode HOME HTTP_PORT TRANSPORT_PORT");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        Settings settings = Settings.builder()
                .put("cluster.name", "temporal-test")
                .put("node.name", "test-node")
                .put("path.home", home.toString())
                .put("path.data", home.resolve("data").toString())
                .put("path.logs", home.resolve("logs").toString())
                .put("network.host", "127.0.0.1")
                .put("http.port", args[1])
                .put("transport.port", args[2])
                .put("discovery.type", "single-node")
                .put("cluster.routing.allocation.disk.threshold_enabled", false)
                .build();
        Node node = new TestElasticsearchNode(settings).start();
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception error) {
                error.printStackTrace();
            } finally {
                closed.countDown();
            }
        }));
        System.out.println("started");
        System.out.flush();
        closed.await();
    }
}
