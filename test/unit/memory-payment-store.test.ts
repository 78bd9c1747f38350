/**
 * The in-memory payment store passes the PaymentStore contract the MongoDB repository passes on
 * the lab, so the watcher and forwarder unit tests built on it stand for MongoDB.
 */
import { MemoryPaymentStore } from '../support/memory-payment-store.js';
import { paymentStoreContract } from '../support/payment-store-contract.js';

paymentStoreContract('MemoryPaymentStore', () => Promise.resolve(new MemoryPaymentStore()));
