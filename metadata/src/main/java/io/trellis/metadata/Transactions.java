package io.trellis.metadata;

import io.trellis.spec.TrellisException;
import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import jakarta.persistence.EntityTransaction;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.function.Function;
import org.hibernate.JDBCException;
import org.hibernate.Session;

/**
 * Runs each registry operation in its own transaction.
 *
 * <p>Operations are written check-then-insert. When two callers race on the same key (an activity retried
 * while its first attempt still runs), the loser hits a unique violation; running the whole operation
 * again then finds the winner's row and returns it, which is what makes the race invisible to callers.
 */
final class Transactions {
    /** unique_violation, serialization_failure, deadlock_detected. */
    private static final Set<String> CONFLICT_STATES = Set.of("23505", "40001", "40P01");
    private static final int MAX_ATTEMPTS = 3;

    private final EntityManagerFactory emf;

    Transactions(EntityManagerFactory emf) {
        this.emf = emf;
    }

    <T> T inTransaction(Function<EntityManager, T> work) {
        for (int attempt = 1; ; attempt++) {
            try {
                return attempt(work);
            } catch (RuntimeException e) {
                if (attempt >= MAX_ATTEMPTS || !isConflict(e)) {
                    throw e;
                }
            }
        }
    }

    /** Plain JDBC work (recursive SQL, streaming reads) inside a transaction of its own; never retried. */
    <T> T inConnection(SqlWork<T> work) {
        return attempt(em -> em.unwrap(Session.class).doReturningWork(work::run));
    }

    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    private <T> T attempt(Function<EntityManager, T> work) {
        EntityManager em = emf.createEntityManager();
        EntityTransaction tx = em.getTransaction();
        try {
            tx.begin();
            T result;
            try {
                result = work.apply(em);
            } catch (AuditedFailure failure) {
                // The audit row saying why the operation failed must outlive the failure.
                tx.commit();
                throw failure.failure;
            }
            tx.commit();
            return result;
        } finally {
            if (tx.isActive()) {
                tx.rollback();
            }
            em.close();
        }
    }

    private static boolean isConflict(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String state = null;
            if (t instanceof JDBCException jdbc) {
                state = jdbc.getSQLState();
            } else if (t instanceof SQLException sql) {
                state = sql.getSQLState();
            }
            if (state != null && CONFLICT_STATES.contains(state)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Thrown inside a transaction after writing an audit row about a user error: the transaction commits
     * (keeping the audit row) and the caller gets {@link #failure}.
     */
    static final class AuditedFailure extends RuntimeException {
        final TrellisException failure;

        AuditedFailure(TrellisException failure) {
            super(failure.getMessage(), failure, false, false);
            this.failure = failure;
        }
    }
}
