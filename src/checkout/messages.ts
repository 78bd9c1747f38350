/**
 * The checkout's words in each language it speaks, chosen from the payer's Accept-Language.
 * Messages are plain text with `{name}` parameters; the page escapes the result (merchant names
 * and descriptions are the merchant's input). English is the fallback and the reference: every
 * catalog has exactly its keys (the type says so).
 */
import Negotiator from 'negotiator';

const en = {
  title: 'Pay {merchant}',
  heading: 'Bitcoin payment',
  'status.pending': 'Waiting for payment',
  'status.partial': 'Partial payment received',
  'status.confirming': 'Payment received, waiting for confirmations',
  'status.paid': 'Paid. Thank you!',
  'status.expired': 'This payment request has expired',
  'status.underpaid': 'Not enough was paid in time',
  'status.cancelled': 'This payment request was cancelled',
  amount: 'Amount',
  stillDue: 'Still to send',
  received: 'Received',
  address: 'Address',
  copy: 'Copy',
  copied: 'Copied',
  copyAmount: 'Copy amount',
  copyAddress: 'Copy address',
  openWallet: 'Open in wallet',
  qrLabel: 'Bitcoin payment QR code; tap to open your wallet',
  partialHint: '{received} BTC received. Send {rest} BTC more to the same address to complete it.',
  expiresIn: 'Expires in {time}',
  timeUp: 'Time is up',
  confirmations: '{count} of {required} confirmations',
  confirmingHint: 'Nothing more to send. This page updates by itself; you may close it.',
  transactions: 'Your transaction',
  transactionsMany: 'Your transactions',
  expiredHint:
    'Do not send money to this request any more. If you paid after it expired, your money is not lost: contact {merchant}, who can credit or refund it.',
  underpaidHint:
    '{received} of {amount} BTC arrived before the request expired. Do not send more to this address: contact {merchant} to complete the payment or get a refund.',
  cancelledHint:
    '{merchant} cancelled this payment request: do not send money to it. If you already paid, your money is not lost: contact {merchant}, who can credit or refund it.',
  backTo: 'Back to {merchant}',
  notFoundTitle: 'Payment not found',
  notFoundText: 'Check the link you were given, or ask the merchant for a new one.',
};

export type MessageKey = keyof typeof en;
export const MESSAGE_KEYS = Object.keys(en) as MessageKey[];
type Catalog = Record<MessageKey, string>;

const de: Catalog = {
  title: '{merchant} bezahlen',
  heading: 'Bitcoin-Zahlung',
  'status.pending': 'Warte auf Zahlung',
  'status.partial': 'Teilzahlung erhalten',
  'status.confirming': 'Zahlung erhalten, warte auf Bestätigungen',
  'status.paid': 'Bezahlt. Vielen Dank!',
  'status.expired': 'Diese Zahlungsanforderung ist abgelaufen',
  'status.underpaid': 'Es wurde nicht rechtzeitig genug bezahlt',
  'status.cancelled': 'Diese Zahlungsanforderung wurde storniert',
  amount: 'Betrag',
  stillDue: 'Noch zu senden',
  received: 'Erhalten',
  address: 'Adresse',
  copy: 'Kopieren',
  copied: 'Kopiert',
  copyAmount: 'Betrag kopieren',
  copyAddress: 'Adresse kopieren',
  openWallet: 'In Wallet öffnen',
  qrLabel: 'QR-Code der Bitcoin-Zahlung; antippen, um die Wallet zu öffnen',
  partialHint:
    '{received} BTC erhalten. Senden Sie noch {rest} BTC an dieselbe Adresse, um die Zahlung abzuschließen.',
  expiresIn: 'Läuft ab in {time}',
  timeUp: 'Die Zeit ist abgelaufen',
  confirmations: '{count} von {required} Bestätigungen',
  confirmingHint:
    'Sie müssen nichts mehr senden. Diese Seite aktualisiert sich selbst; Sie können sie schließen.',
  transactions: 'Ihre Transaktion',
  transactionsMany: 'Ihre Transaktionen',
  expiredHint:
    'Senden Sie kein Geld mehr an diese Anforderung. Falls Sie nach Ablauf bezahlt haben, ist Ihr Geld nicht verloren: Wenden Sie sich an {merchant}, um es gutschreiben oder erstatten zu lassen.',
  underpaidHint:
    '{received} von {amount} BTC kamen vor Ablauf an. Senden Sie nichts mehr an diese Adresse: Wenden Sie sich an {merchant}, um die Zahlung abzuschließen oder eine Erstattung zu erhalten.',
  cancelledHint:
    '{merchant} hat diese Zahlungsanforderung storniert: Senden Sie kein Geld dorthin. Falls Sie schon bezahlt haben, ist Ihr Geld nicht verloren: Wenden Sie sich an {merchant}, um es gutschreiben oder erstatten zu lassen.',
  backTo: 'Zurück zu {merchant}',
  notFoundTitle: 'Zahlung nicht gefunden',
  notFoundText: 'Prüfen Sie den erhaltenen Link oder bitten Sie den Händler um einen neuen.',
};

const es: Catalog = {
  title: 'Pagar a {merchant}',
  heading: 'Pago con bitcoin',
  'status.pending': 'Esperando el pago',
  'status.partial': 'Pago parcial recibido',
  'status.confirming': 'Pago recibido, esperando confirmaciones',
  'status.paid': 'Pagado. ¡Gracias!',
  'status.expired': 'Esta solicitud de pago ha caducado',
  'status.underpaid': 'No se pagó lo suficiente a tiempo',
  'status.cancelled': 'Esta solicitud de pago fue cancelada',
  amount: 'Importe',
  stillDue: 'Falta por enviar',
  received: 'Recibido',
  address: 'Dirección',
  copy: 'Copiar',
  copied: 'Copiado',
  copyAmount: 'Copiar importe',
  copyAddress: 'Copiar dirección',
  openWallet: 'Abrir en la billetera',
  qrLabel: 'Código QR del pago en bitcoin; tóquelo para abrir su billetera',
  partialHint:
    'Recibidos {received} BTC. Envíe {rest} BTC más a la misma dirección para completar el pago.',
  expiresIn: 'Caduca en {time}',
  timeUp: 'Se acabó el tiempo',
  confirmations: '{count} de {required} confirmaciones',
  confirmingHint: 'No hace falta enviar nada más. Esta página se actualiza sola; puede cerrarla.',
  transactions: 'Su transacción',
  transactionsMany: 'Sus transacciones',
  expiredHint:
    'No envíe más dinero a esta solicitud. Si pagó después de que caducara, su dinero no se pierde: contacte con {merchant}, que puede abonarlo o reembolsarlo.',
  underpaidHint:
    'Llegaron {received} de {amount} BTC antes de que caducara la solicitud. No envíe más a esta dirección: contacte con {merchant} para completar el pago u obtener un reembolso.',
  cancelledHint:
    '{merchant} canceló esta solicitud de pago: no envíe dinero a ella. Si ya pagó, su dinero no se pierde: contacte con {merchant}, que puede abonarlo o reembolsarlo.',
  backTo: 'Volver a {merchant}',
  notFoundTitle: 'Pago no encontrado',
  notFoundText: 'Compruebe el enlace que recibió o pida uno nuevo al comercio.',
};

const CATALOGS = { en, de, es } satisfies Record<string, Catalog>;
export type Language = keyof typeof CATALOGS;
export const LANGUAGES = Object.keys(CATALOGS) as Language[];
export const DEFAULT_LANGUAGE: Language = 'en';

/** The payer's preferred language among ours (`de-CH` finds `de`); English otherwise. */
export function negotiateLanguage(acceptLanguage: string | undefined): Language {
  if (acceptLanguage === undefined || acceptLanguage === '') return DEFAULT_LANGUAGE;
  const best = new Negotiator({ headers: { 'accept-language': acceptLanguage } }).language(
    LANGUAGES,
  );
  return (LANGUAGES as string[]).includes(best ?? '') ? (best as Language) : DEFAULT_LANGUAGE;
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** Plain text: the caller escapes it for where it goes. */
export function translator(language: Language): Translate {
  const catalog: Catalog = CATALOGS[language];
  return (key, params = {}) =>
    catalog[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      name in params ? String(params[name]) : whole,
    );
}
