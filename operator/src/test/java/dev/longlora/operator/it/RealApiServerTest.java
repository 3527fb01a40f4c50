package dev.longlora.operator.it;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that runs against the shared real kube-apiserver; see {@link RealApiServerExtension}.
 * Tagged {@code real-api-server} so a run can select or exclude these tests.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RealApiServerExtension.class)
@Tag("real-api-server")
public @interface RealApiServerTest {}
